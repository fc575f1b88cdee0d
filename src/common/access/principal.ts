/** What the global guard puts on `request.user`, read with `@CurrentUser()`. */
export interface FullPrincipal {
  readonly kind: 'full';
  readonly userId: string;
  readonly sessionId: string;
  /** When the user last authenticated in this session (seconds since the epoch; the token's `auth_time`). */
  readonly authTime: number;
  /** When the second factor (a PIN) was last proven in this session (seconds since the epoch). */
  readonly secondFactorAt: number;
  /** How the user authenticated (RFC 8176): `pwd` + `sms` + `mfa` after a PIN, `pwd` + `device` on a remembered device. */
  readonly amr: string[];
  /** When this access token expires (seconds since the epoch). */
  readonly expiresAt: number;
}

export interface PartialPrincipal {
  readonly kind: 'partial';
  readonly userId: string;
  /** The login attempt this partial token (and its PIN) belongs to. */
  readonly attemptId: string;
}

export type Principal = FullPrincipal | PartialPrincipal;
