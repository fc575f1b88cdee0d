export interface OutgoingSms {
  /** E.164 recipient, e.g. `+818012345209`. */
  to: string;
  /** The whole text, already in the recipient's language (freeform providers send this). */
  text: string;
  /** The recipient's language (`en`, `ja`, …): template providers pick their template by it. */
  locale?: string;
  /** The one-time code and its lifetime, for template providers that fill in variables themselves. */
  otp?: { code: string; minutes: number };
  /** Where the provider should report this SMS's delivery (Xoxzo `callbackurl`); none: no reports. */
  callbackUrl?: string;
}

export interface SentSms {
  /** The provider's id for the message (Xoxzo's `msgid`), when it gave one. */
  messageId: string | null;
  /** The provider will report delivery for this message (Xoxzo with PUBLIC_BASE_URL). */
  deliveryReports?: boolean;
}

/** Per-call options: the caller's, and those a wrapper (retries, deadline) hands to the sender it wraps. */
export interface SendOptions {
  /** Aborts the call when the overall deadline of the send is reached. */
  signal?: AbortSignal;
  /**
   * Called before each provider attempt after the first, so that every attempt can be charged (e.g. to an
   * SMS budget). If it rejects, no further attempt is made and the send fails with the last attempt's error
   * (which, since only failures that certainly sent nothing are retried, is a definite "not sent"). Only a
   * sender that retries calls it; a single attempt is the caller's own charge.
   */
  beforeRetry?: () => Promise<void>;
}

export type SmsFailureReason =
  /** The provider refused this recipient number: the caller should treat the phone as invalid. */
  | 'recipient_rejected'
  /** Timeout, connection error, throttling, 5xx, bad credentials, no credit, bad sender...: try later. */
  | 'unavailable';

/** Why a send failed, finer than `reason`: for logs, retries, the circuit breaker and alarms. */
export type SmsFailureKind =
  /** The provider refused our credentials (Xoxzo 401): configuration alarm. */
  | 'credentials'
  /** The account is out of credit (Xoxzo 403): configuration alarm. */
  | 'no_credit'
  /** The provider throttled us (429): transient. */
  | 'throttled'
  /** 5xx or an unusable answer from the provider: transient. */
  | 'provider_error'
  /** Timeout, connection refused or reset, DNS, TLS, deadline reached: transient. */
  | 'transport'
  /** Any other 4xx (bad sender, message too long, unknown or unapproved template...): not retried. */
  | 'rejected_request'
  /** The provider refused the recipient number. */
  | 'recipient_rejected'
  /** The circuit breaker is open: no call was made. */
  | 'circuit_open';

const TRANSIENT_KINDS: ReadonlySet<SmsFailureKind> = new Set(['throttled', 'provider_error', 'transport']);

export interface SmsDeliveryErrorDetails {
  kind?: SmsFailureKind;
  /** From the provider's `Retry-After`, when it gave one (429). */
  retryAfterMs?: number;
  /** The underlying error, if any. */
  cause?: unknown;
  /**
   * Whether the provider may have sent it after all. Default: true for `transport` and `provider_error`
   * (without more knowledge, a timeout or a 5xx may follow an accepted message), false for the others.
   */
  mayHaveBeenSent?: boolean;
}

export class SmsDeliveryError extends Error {
  /** Why the send failed; `reason` is the coarse version callers act on. */
  readonly kind: SmsFailureKind;
  readonly retryAfterMs: number | undefined;
  /**
   * The SMS may have gone out even though the send failed (a timeout or a 5xx after the request reached the
   * provider): not retried, its cost and limits stay counted, and the caller must treat it as possibly
   * delivered. False means certainly not sent (refused before the request got there, or refused by the
   * provider): nothing to undo, safe to retry if `transient`.
   */
  readonly mayHaveBeenSent: boolean;

  constructor(
    readonly reason: SmsFailureReason,
    message: string,
    readonly providerStatus?: number,
    details: SmsDeliveryErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SmsDeliveryError';
    this.kind = details.kind ?? (reason === 'recipient_rejected' ? 'recipient_rejected' : 'provider_error');
    this.retryAfterMs = details.retryAfterMs;
    this.mayHaveBeenSent =
      details.mayHaveBeenSent ?? (this.kind === 'transport' || this.kind === 'provider_error');
  }

  /** An error of this kind, with `reason` derived from it. */
  static of(
    kind: SmsFailureKind,
    message: string,
    providerStatus?: number,
    details: Omit<SmsDeliveryErrorDetails, 'kind'> = {},
  ): SmsDeliveryError {
    const reason: SmsFailureReason = kind === 'recipient_rejected' ? 'recipient_rejected' : 'unavailable';
    return new SmsDeliveryError(reason, message, providerStatus, { ...details, kind });
  }

  /** A passing condition (timeouts, resets, 5xx, 429), not a refusal that would come again (4xx). */
  get transient(): boolean {
    return TRANSIENT_KINDS.has(this.kind);
  }

  /**
   * Worth another attempt within the same send: transient, and certainly not sent (connection refused,
   * DNS, TLS, 429, 503 with Retry-After). An uncertain failure is never retried: the provider has no
   * idempotency key, so a retry could deliver the same SMS twice.
   */
  get retryable(): boolean {
    return this.transient && !this.mayHaveBeenSent;
  }
}

/**
 * The one seam to SMS providers (DI token). Resolves once the provider has accepted the message; rejects with
 * `SmsDeliveryError` otherwise. Implementations deliver text only: no PIN logic lives here.
 */
export abstract class SmsSender {
  abstract send(sms: OutgoingSms, options?: SendOptions): Promise<SentSms>;
}
