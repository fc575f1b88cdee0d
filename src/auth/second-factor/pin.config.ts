import { z } from 'zod';
import { type Env, int, optionalString } from '../../config/index.js';
import { PIN_SMS_LOCALES, renderPinSms, segments } from './pin-message.js';

/** The PIN: its shape and life, the guesses it allows, its SMS text, and the SMS budgets it may spend (0 = off). */
export function loadPinConfig(env: Env) {
  const length = env.read('PIN_LENGTH', int(6, 4, 8));
  env.unsafe('PIN_LENGTH', length < 6, 'fewer than 6 digits (NIST SP 800-63B asks for at least 6)');
  const maxAttempts = env.read('PIN_MAX_ATTEMPTS', int(5, 1, 20));
  env.unsafe('PIN_MAX_ATTEMPTS', maxAttempts > 10, 'more than 10 guesses per PIN');
  const brand = env.read(
    'SMS_BRAND',
    z
      .string()
      .trim()
      .refine(
        (b) => b.length >= 1 && b.length <= 20 && !/[@#]/.test(b) && [...b].every((c) => c >= ' '),
        'must be 1-20 characters, without @, # or control characters',
      )
      .default('XOXZO'),
  );
  return {
    length,
    ttlSeconds: env.read('PIN_TTL_SECONDS', int(300, 60, 600)),
    /** Wrong PINs before the login attempt closes (a resend does not reset the count). */
    maxAttempts,
    resendSeconds: env.read('PIN_RESEND_SECONDS', int(30, 0, 3600)),
    /** PIN checks per account per 15 minutes, across all its login attempts. */
    checksPerAccount15Min: env.limit('PIN_CHECKS_PER_ACCOUNT_15MIN', 10, 1000),
    /**
     * Consecutive wrong PINs per account, across attempts (reset only by a right PIN), that suspend its
     * second factor for `lockoutSeconds` (NIST SP 800-63B-4 §3.2.2: at most 100).
     */
    consecutiveFailureLimit: env.read('PIN_CONSECUTIVE_FAILURE_LIMIT', int(20, 1, 100)),
    lockoutSeconds: env.read('PIN_LOCKOUT_SECONDS', int(86400, 60, 2592000)),
    /** `SMS_BRAND`: the service the SMS names. */
    brand,
    /** `APP_ORIGIN_DOMAIN`: adds the WebOTP line `@<domain> #<pin>` to the SMS. */
    appOriginDomain: appOriginDomainOf(env, env.valid('SMS_BRAND') ? brand : undefined),
    /**
     * Budgets for PIN SMS. Numbers verified on their account (logins, resends) and new numbers
     * (registrations, numbers not verified yet) count in separate buckets, so registration traffic cannot
     * spend what verified users need to log in.
     */
    smsLimits: {
      perPhoneHour: env.limit('SMS_LIMIT_PER_PHONE_HOUR', 5, 1000),
      perPhoneDay: env.limit('SMS_LIMIT_PER_PHONE_DAY', 10, 10000),
      perAccountHour: env.limit('SMS_LIMIT_PER_ACCOUNT_HOUR', 10, 1000),
      perIpHour: env.limit('SMS_LIMIT_PER_IP_HOUR', 10, 100000),
      /** Every PIN SMS to a verified number (logins, resends). */
      globalPerMinute: env.limit('SMS_LIMIT_GLOBAL_PER_MINUTE', 100, 1000000),
      /** Every PIN SMS to a number not verified yet (registrations and their resends). */
      newNumbersGlobalPerMinute: env.limit('REGISTRATION_SMS_LIMIT_GLOBAL_PER_MINUTE', 50, 1000000),
    },
  };
}

export abstract class PinConfig {}
export interface PinConfig extends ReturnType<typeof loadPinConfig> {}

function appOriginDomainOf(env: Env, brand: string | undefined): string | undefined {
  const domain = env
    .read(
      'APP_ORIGIN_DOMAIN',
      optionalString.pipe(
        z
          .string()
          .regex(
            /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i,
            'must be a host name like app.example.com',
          )
          .optional(),
      ),
    )
    ?.toLowerCase();
  if (brand === undefined) return domain;
  if (!fitsOneSegment(brand, undefined)) {
    env.problem('SMS_BRAND', `too long for the PIN SMS to stay in one segment in every language`);
  } else if (domain && !fitsOneSegment(brand, domain)) {
    env.problem(
      'APP_ORIGIN_DOMAIN',
      `too long (${domain.length} characters) for the PIN SMS to stay in one segment ` +
        `with the WebOTP line and SMS_BRAND ${JSON.stringify(brand)}; at most ${longestOriginDomain(brand)} characters`,
    );
  }
  return domain;
}

/** The PIN SMS's worst case: the longest PIN (PIN_LENGTH's maximum) and 10 minutes (PIN_TTL_SECONDS' maximum). */
const WORST_PIN = '0'.repeat(8);
const WORST_MINUTES = 10;

/** Whether every locale's PIN SMS still fits one segment in the worst case with this brand and domain. */
function fitsOneSegment(brand: string, originDomain: string | undefined): boolean {
  return PIN_SMS_LOCALES.every(
    (locale) =>
      segments(renderPinSms({ pin: WORST_PIN, minutes: WORST_MINUTES, locale, brand, originDomain })) === 1,
  );
}

/** The longest APP_ORIGIN_DOMAIN that keeps every PIN SMS in one segment with this brand (host names are ASCII). */
export function longestOriginDomain(brand: string): number {
  let length = 0;
  while (length < 253 && fitsOneSegment(brand, 'a'.repeat(length + 1))) length++;
  return length;
}
