import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PinConfig } from './pin.config.js';
import { SmsTestNumbers } from '../../sms/test-numbers.js';
import { AuthKeys } from '../auth-keys.js';
import { renderPinSms } from './pin-message.js';

/** Makes, hashes and checks one-time PINs. PINs are never stored or logged; only their HMAC is kept. */
@Injectable()
export class PinService {
  constructor(
    private readonly config: PinConfig,
    private readonly keys: AuthKeys,
    private readonly testNumbers: SmsTestNumbers,
  ) {}

  /**
   * `PIN_LENGTH` decimal digits from the CSPRNG, zero-padded; for a configured test number (SMS_TEST_NUMBERS,
   * QA and app-store review) its fixed PIN. Every other rule (hashing, expiry, attempts, limits) still applies.
   */
  generate(phone?: string): string {
    const fixed = phone === undefined ? undefined : this.testNumbers.fixedPin(phone);
    if (fixed !== undefined) return fixed;
    const { length } = this.config;
    return randomInt(0, 10 ** length)
      .toString()
      .padStart(length, '0');
  }

  /** HMAC-SHA256 bound to the login attempt, so a PIN hash is meaningless for any other attempt. */
  hash(pin: string, attemptId: string): Buffer {
    return createHmac('sha256', this.keys.pinHmac).update(`${attemptId}:${pin}`).digest();
  }

  /** Constant-time comparison of a typed PIN with the stored hash. */
  matches(pin: string, attemptId: string, storedHash: Buffer): boolean {
    const candidate = this.hash(pin, attemptId);
    return storedHash.length === candidate.length && timingSafeEqual(candidate, storedHash);
  }

  /** The PIN's lifetime in whole minutes, as the SMS states it. */
  minutes(): number {
    return Math.max(1, Math.floor(this.config.ttlSeconds / 60)); // never promises more time than it has
  }

  /** The SMS text in the user's language, with the WebOTP line when APP_ORIGIN_DOMAIN is set; one segment. */
  message(pin: string, locale = 'en'): string {
    return renderPinSms({
      pin,
      minutes: this.minutes(),
      locale,
      brand: this.config.brand,
      originDomain: this.config.appOriginDomain,
    });
  }
}
