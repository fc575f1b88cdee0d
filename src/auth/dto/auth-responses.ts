/** `200/201` after a password step: a partial token and where the PIN went. */
export interface ChallengeResponse {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  authLevel: 'partial';
  challenge: {
    channel: 'sms';
    /** The phone, masked (`+81******5209`). */
    to: string;
    /** Seconds the PIN stays valid. */
    expiresIn: number;
    /** Seconds until a resend is allowed. */
    resendIn: number;
    /** The newest PIN SMS: `pending` until the provider reports `delivered` or `failed`. */
    delivery: 'pending' | 'delivered' | 'failed' | 'unknown';
    /** PIN checks left for this login attempt. */
    attemptsLeft: number;
  };
}

/** `200` after the second factor or a refresh. */
export interface SessionResponse {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  authLevel: 'full';
  /** Only after `POST /auth/2fa/verify {rememberDevice: true}`: send it with later logins to skip the PIN. */
  deviceToken?: string;
}
