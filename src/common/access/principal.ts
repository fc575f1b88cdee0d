/** What the global guard puts on `request.user`, read with `@CurrentUser()`. */
export interface FullPrincipal {
  readonly kind: 'full';
  readonly userId: string;
  readonly sessionId: string;
  /** When the second factor was completed (seconds since the epoch). */
  readonly authTime: number;
  readonly amr: string[];
}

export interface PartialPrincipal {
  readonly kind: 'partial';
  readonly userId: string;
  /** The login attempt this partial token (and its PIN) belongs to. */
  readonly attemptId: string;
}

export type Principal = FullPrincipal | PartialPrincipal;
