import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { OutgoingSms, SendOptions, SentSms, SmsSender } from './sms-sender.js';

/**
 * The phone numbers configured in `SMS_TEST_NUMBERS` (E.164 → fixed PIN), for app-store reviewers and
 * automated checks. Their SMS never reach the provider and their PIN is fixed. The config leaves the list
 * empty in production unless `SMS_TEST_NUMBERS_IN_PRODUCTION=true`.
 */
@Injectable()
export class SmsTestNumbers {
  private readonly pins: ReadonlyMap<string, string>;

  constructor(pins: ReadonlyMap<string, string>) {
    this.pins = new Map(pins);
  }

  get size(): number {
    return this.pins.size;
  }

  has(phone: string): boolean {
    return this.pins.has(phone);
  }

  /** The PIN Auth must use for this number instead of a random one; undefined for real numbers. */
  fixedPin(phone: string): string | undefined {
    return this.pins.get(phone);
  }
}

/** Wraps the real sender: an SMS to a test number is dropped (never sent, never logged) and "accepted". */
export class TestNumbersSmsSender extends SmsSender {
  constructor(
    private readonly inner: SmsSender,
    private readonly testNumbers: SmsTestNumbers,
  ) {
    super();
  }

  send(sms: OutgoingSms, options?: SendOptions): Promise<SentSms> {
    if (this.testNumbers.has(sms.to)) return Promise.resolve({ messageId: `test-${randomUUID()}` });
    return this.inner.send(sms, options);
  }
}
