import { z } from 'zod';
import { duplicateKeys, entries, type Env, int, list, optionalString } from '../config/index.js';
import { toE164 } from '../phone/phone.js';

/** Sender IDs as Xoxzo takes them: up to 10 letters/digits, or up to 15 digits (a phone number without `+`). */
export const XOXZO_SENDER_PATTERN = /^(?:[A-Za-z0-9]{1,10}|[0-9]{1,15})$/;

const TEMPLATE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const VARIABLE = /^[A-Za-z0-9_]{1,40}$/;

export interface SmsConfigContext {
  /** PIN_LENGTH, to check the test numbers' fixed PINs; undefined when PIN_LENGTH is itself invalid. */
  pinLength: number | undefined;
  /** The locales that have a PIN text: templates must cover them, and may name no other. */
  pinLocales: readonly string[];
}

/** The SMS driver and its Xoxzo settings: templates, deadlines, circuit breaker, delivery reports, test numbers. */
export function loadSmsConfig(env: Env, context: SmsConfigContext) {
  const sid = env.read('XOXZO_API_SID', optionalString);
  const authToken = env.read('XOXZO_API_AUTH_TOKEN', optionalString);
  const explicitDriver = env.read('SMS_DRIVER', optionalString.pipe(z.enum(['xoxzo', 'console']).optional()));
  const driver = explicitDriver ?? (sid ? 'xoxzo' : 'console');
  if (driver === 'xoxzo') {
    if (!sid) env.problem('XOXZO_API_SID', 'required when SMS_DRIVER=xoxzo');
    if (!authToken) env.problem('XOXZO_API_AUTH_TOKEN', 'required when SMS_DRIVER=xoxzo');
  }
  if (env.production && driver === 'console') {
    env.problem(
      'SMS_DRIVER',
      explicitDriver === 'console'
        ? 'console (PINs in the log) is refused when NODE_ENV=production'
        : 'NODE_ENV=production would fall back to the console SMS driver (PINs in the log); ' +
            'set XOXZO_API_SID and XOXZO_API_AUTH_TOKEN',
    );
  }
  const testNumbers = testNumbersOf(env, context.pinLength);
  const inProduction = env.read('SMS_TEST_NUMBERS_IN_PRODUCTION', z.enum(['true', 'false']).default('false'));
  if (env.production && inProduction !== 'true') testNumbers.clear();
  if (env.production && testNumbers.size) {
    env.warnings.push(`SMS_TEST_NUMBERS_IN_PRODUCTION=true: ${testNumbers.size} number(s) with fixed PINs`);
  }
  return {
    driver,
    xoxzo: {
      apiUrl: apiUrlOf(env),
      sid,
      authToken,
      sender: env.read(
        'XOXZO_SENDER',
        z
          .string()
          .default('XOXZO')
          .refine((s) => XOXZO_SENDER_PATTERN.test(s), 'must be 1-10 letters/digits, or 1-15 digits'),
      ),
      /** Deadline for one HTTP call to Xoxzo. */
      timeoutMs: env.read('XOXZO_TIMEOUT_MS', int(5000, 100, 60000)),
      /** Template mode when any template id is set: per locale, with `default` for the rest. */
      templates: templatesOf(env, context.pinLocales),
    },
    /** Overall deadline for one send, retries included. */
    deadlineMs: env.read('SMS_DEADLINE_MS', int(8000, 500, 60000)),
    /** Consecutive failed sends that open the circuit, and how long it stays open. */
    breaker: {
      threshold: env.read('SMS_BREAKER_THRESHOLD', int(5, 1, 1000)),
      cooldownSeconds: env.read('SMS_BREAKER_COOLDOWN_SECONDS', int(30, 1, 3600)),
    },
    /**
     * `PUBLIC_BASE_URL`: when set, Xoxzo is asked to report each message's delivery to
     * `<it>/sms/xoxzo/delivery-reports?id=<row id>&sig=<HMAC of it>`.
     */
    publicBaseUrl: env.read(
      'PUBLIC_BASE_URL',
      optionalString.pipe(
        z
          .url({ protocol: /^https?$/ })
          .transform((u) => u.replace(/\/+$/, ''))
          .optional(),
      ),
    ),
    /** Validly signed delivery reports acted on per client IP per minute; more are ignored (204). 0 = off. */
    deliveryReportsPerIpMinute: env.limit('SMS_DELIVERY_REPORTS_PER_IP_MINUTE', 120, 100000),
    /** E.164 → fixed PIN; such numbers never reach the provider. Empty when not enabled. */
    testNumbers,
  };
}

/** `XOXZO_API_URL`; in production only https (a loopback host excepted: local fakes and sidecars). */
function apiUrlOf(env: Env): string {
  const url = env.read(
    'XOXZO_API_URL',
    z
      .url({ protocol: /^https?$/ })
      .default('https://api.xoxzo.com')
      .transform((u) => u.replace(/\/+$/, '')),
  );
  const { protocol, hostname } = new URL(url);
  const loopback = hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
  if (env.production && protocol !== 'https:' && !loopback) {
    env.problem(
      'XOXZO_API_URL',
      'must be https:// when NODE_ENV=production (credentials travel with every call)',
    );
  }
  return url;
}

export abstract class SmsConfig {}
export interface SmsConfig extends ReturnType<typeof loadSmsConfig> {}

function templatesOf(env: Env, pinLocales: readonly string[]) {
  const ids = env.read(
    'XOXZO_TEMPLATE_IDS',
    optionalString.pipe(
      z
        .string()
        .regex(/^[a-z]{2}:[A-Za-z0-9_-]{1,64}(,[a-z]{2}:[A-Za-z0-9_-]{1,64})*$/, 'must look like en:12,ja:13')
        .optional(),
    ),
  );
  const fallback = env.read(
    'XOXZO_TEMPLATE_ID',
    optionalString.pipe(z.string().regex(TEMPLATE_ID, 'must be a template id').optional()),
  );
  const locales = entries(ids).map(([locale]) => locale);
  const unknown = locales.filter((l) => !pinLocales.includes(l));
  if (unknown.length) {
    env.problem(
      'XOXZO_TEMPLATE_IDS',
      `no PIN text for ${unknown.join(', ')} (supported: ${pinLocales.join(', ')})`,
    );
  }
  const uncovered = pinLocales.filter((l) => !locales.includes(l));
  if (locales.length && uncovered.length && !fallback) {
    env.problem(
      'XOXZO_TEMPLATE_IDS',
      `no template for ${uncovered.join(', ')}; add them or set XOXZO_TEMPLATE_ID for the rest ` +
        '(template-only Xoxzo accounts cannot send freeform SMS)',
    );
  }
  for (const locale of duplicateKeys(ids)) {
    env.problem('XOXZO_TEMPLATE_IDS', `locale ${locale} is given more than once`);
  }
  return {
    byLocale: Object.fromEntries(entries(ids)),
    default: fallback,
    pinVariable: env.read('XOXZO_TEMPLATE_PIN_VARIABLE', z.string().regex(VARIABLE).default('pin')),
    minutesVariable: env.read(
      'XOXZO_TEMPLATE_MINUTES_VARIABLE',
      z.string().regex(VARIABLE).default('minutes'),
    ),
  };
}

/**
 * `SMS_TEST_NUMBERS` (`+12015550123:123456,...`) as E.164 → PIN. Every number must be one registration accepts
 * (`toE164`), listed once, with a PIN of exactly `pinLength` digits (skipped when `pinLength` is undefined,
 * i.e. PIN_LENGTH is itself invalid). Problems name the number, never the PIN.
 */
function testNumbersOf(env: Env, pinLength: number | undefined): Map<string, string> {
  const numbers = new Map<string, string>();
  list(env.read('SMS_TEST_NUMBERS', optionalString)).forEach((entry, index) => {
    const at = entry.indexOf(':');
    if (at === -1) {
      env.problem('SMS_TEST_NUMBERS', `entry ${index + 1} is not <+number>:<PIN> (like +12015550123:123456)`);
      return;
    }
    const number = entry.slice(0, at).trim();
    const pin = entry.slice(at + 1).trim();
    const e164 = toE164(number);
    if (!e164) {
      // Shown only when it starts with `+`: a swapped `PIN:number` entry must not print the PIN.
      const shown = number.startsWith('+')
        ? `${JSON.stringify(number.slice(0, 40))} (entry ${index + 1})`
        : `entry ${index + 1}`;
      env.problem(
        'SMS_TEST_NUMBERS',
        `${shown} is not a valid phone number in international format ` +
          '(+<country code><number>); registration would refuse it',
      );
    } else if (numbers.has(e164)) {
      env.problem('SMS_TEST_NUMBERS', `${e164} is listed more than once`);
    }
    if (pinLength !== undefined && !(pin.length === pinLength && /^[0-9]+$/.test(pin))) {
      env.problem(
        'SMS_TEST_NUMBERS',
        `the PIN for ${e164 ?? `entry ${index + 1}`} must be exactly ${pinLength} digits (PIN_LENGTH)`,
      );
    }
    if (e164 && !numbers.has(e164)) numbers.set(e164, pin);
  });
  return numbers;
}
