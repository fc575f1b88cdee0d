export interface OutgoingSms {
  /** E.164 recipient, e.g. `+818012345209`. */
  to: string;
  /** The whole text, already in the recipient's language (freeform providers send this). */
  text: string;
  /** The recipient's language (`en`, `ja`, …): template providers pick their template by it. */
  locale?: string;
  /** The one-time code and its lifetime, for template providers that fill in variables themselves. */
  otp?: { code: string; minutes: number };
}

export interface SentSms {
  /** The provider's id for the message (Xoxzo's `msgid`), when it gave one. */
  messageId: string | null;
  /** The provider will report delivery for this message (Xoxzo with PUBLIC_BASE_URL). */
  deliveryReports?: boolean;
}

/** Per-call options a wrapper (retries, deadline) hands to the sender it wraps. */
export interface SendOptions {
  /** Aborts the call when the overall deadline of the send is reached. */
  signal?: AbortSignal;
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
  /** Timeout, connection refused or reset, DNS, deadline reached: transient. */
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
  /** Whether the provider may have sent it after all; default: true for `transport` and `provider_error`. */
  mayHaveBeenSent?: boolean;
}

export class SmsDeliveryError extends Error {
  /** Why the send failed; `reason` is the coarse version callers act on. */
  readonly kind: SmsFailureKind;
  readonly retryAfterMs: number | undefined;
  /**
   * The SMS may have gone out even though the send failed (a timeout or a 5xx after the provider took it,
   * or any earlier attempt of a retried send that was): its cost and limits must stay counted.
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

  /** Worth another attempt within the same send (timeouts, resets, 5xx, 429); 4xx never are. */
  get transient(): boolean {
    return TRANSIENT_KINDS.has(this.kind);
  }
}

/**
 * The one seam to SMS providers (DI token). Resolves once the provider has accepted the message; rejects with
 * `SmsDeliveryError` otherwise. Implementations deliver text only: no PIN logic lives here.
 */
export abstract class SmsSender {
  abstract send(sms: OutgoingSms, options?: SendOptions): Promise<SentSms>;
}
