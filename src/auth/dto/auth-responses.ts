/** `200/201` after a password step: a partial token and where the PIN went. */
export interface ChallengeResponse {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  authLevel: 'partial';
  challenge: { channel: 'sms'; to: string; expiresIn: number; resendIn: number };
}

/** `200` after the second factor or a refresh. */
export interface SessionResponse {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  authLevel: 'full';
}
