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
}

export type SmsFailureReason =
  /** The provider refused this recipient number: the caller should treat the phone as invalid. */
  | 'recipient_rejected'
  /** Timeout, connection error, throttling, 5xx, bad credentials, no credit, bad sender...: try later. */
  | 'unavailable';

export class SmsDeliveryError extends Error {
  constructor(
    readonly reason: SmsFailureReason,
    message: string,
    readonly providerStatus?: number,
  ) {
    super(message);
    this.name = 'SmsDeliveryError';
  }
}

/**
 * The one seam to SMS providers (DI token). Resolves once the provider has accepted the message; rejects with
 * `SmsDeliveryError` otherwise. Implementations deliver text only: no PIN logic lives here.
 */
export abstract class SmsSender {
  abstract send(sms: OutgoingSms): Promise<SentSms>;
}
