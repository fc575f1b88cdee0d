import { isIP } from 'node:net';
import { z } from 'zod';
import { PIN_SMS_LOCALES, renderPinSms, segments } from '../auth/second-factor/pin-message.js';
import { isSupportedCountry, toE164 } from '../phone/phone.js';

/**
 * The whole configuration, read from the environment once at boot (`loadConfig`) and injected as a typed
 * object (`AppConfig` is the DI token). Nothing else in the code reads `process.env`.
 */
export abstract class AppConfig {
  abstract readonly nodeEnv: 'development' | 'production' | 'test';
  abstract readonly http: { port: number; host: string };
  abstract readonly database: { url: string | undefined; dataDir: string };
  abstract readonly jwt: {
    secret: string;
    /** True when no JWT_SECRET was set and a random one was made for this process (dev/test only). */
    secretGenerated: boolean;
    issuer: string;
    audience: string;
    partialTokenTtlSeconds: number;
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    /** A refresh token spent less than this long ago is a benign race, not reuse (no revocation). */
    refreshReuseGraceSeconds: number;
    /** A session ends this long after its second factor, however often it is refreshed. */
    sessionMaxSeconds: number;
  };
  abstract readonly pin: { length: number; ttlSeconds: number; maxAttempts: number; resendSeconds: number };
  abstract readonly sms: {
    driver: 'xoxzo' | 'console';
    xoxzo: {
      apiUrl: string;
      sid: string | undefined;
      authToken: string | undefined;
      sender: string;
      /** Deadline for one HTTP call to Xoxzo. */
      timeoutMs: number;
      /** Template mode when any template id is set: per locale, with `default` for the rest. */
      templates: {
        byLocale: Record<string, string>;
        default: string | undefined;
        pinVariable: string;
        minutesVariable: string;
      };
    };
    /** Overall deadline for one send, retries included. */
    deadlineMs: number;
    /** Consecutive failed sends that open the circuit, and how long it stays open. */
    breaker: { threshold: number; cooldownSeconds: number };
    /** `PUBLIC_BASE_URL`: when set, Xoxzo is asked to report delivery to `<it>/sms/xoxzo/delivery-reports`. */
    publicBaseUrl: string | undefined;
    /** `APP_ORIGIN_DOMAIN`: adds the WebOTP line `@<domain> #<pin>` to the SMS. */
    appOriginDomain: string | undefined;
    /** E.164 → fixed PIN; such numbers never reach the provider. Empty when not enabled. */
    testNumbers: Map<string, string>;
    /** ISO 3166 alpha-2 codes SMS may go to; empty = anywhere. */
    allowedCountries: string[];
  };
  abstract readonly limits: {
    sms: {
      perPhoneHour: number;
      perPhoneDay: number;
      perAccountHour: number;
      perIpHour: number;
      globalPerMinute: number;
    };
    login: {
      perIp15Min: number;
      freeFailures: number;
      maxDelaySeconds: number;
      lockoutThreshold: number;
      lockoutSeconds: number;
    };
    pinChecksPerAccount15Min: number;
  };
  /** `TRUST_PROXY`: false (socket address), or the proxies whose X-Forwarded-For is believed. */
  abstract readonly trustProxy: false | string[];
  /** How long records are kept (see `RetentionService`). */
  abstract readonly retention: { auditDays: number };
  /** `CORS_ORIGINS`: browser origins allowed to call the API; empty = no cross-origin access. */
  abstract readonly corsOrigins: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Unset and empty (`PORT=`) both mean "use the default". */
const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const int = (def: number, min: number, max: number) =>
  z.preprocess(blankToUndefined, z.coerce.number().int().min(min).max(max).default(def));
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** Sender IDs as Xoxzo takes them: up to 10 letters/digits, or up to 15 digits (a phone number without `+`). */
export const XOXZO_SENDER_PATTERN = /^(?:[A-Za-z0-9]{1,10}|[0-9]{1,15})$/;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(3000, 0, 65535),
  HOST: optionalString,
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  DATA_DIR: z.string().trim().min(1).default('./.data'),
  JWT_SECRET: optionalString,
  JWT_ISSUER: z.string().trim().min(1).default('xoxzo-2fa-auth'),
  JWT_AUDIENCE: z.string().trim().min(1).default('api'),
  SMS_DRIVER: optionalString.pipe(z.enum(['xoxzo', 'console']).optional()),
  XOXZO_API_SID: optionalString,
  XOXZO_API_AUTH_TOKEN: optionalString,
  XOXZO_API_URL: z
    .url({ protocol: /^https?$/ })
    .default('https://api.xoxzo.com')
    .transform((u) => u.replace(/\/+$/, '')),
  XOXZO_SENDER: z
    .string()
    .default('XOXZO')
    .refine((s) => XOXZO_SENDER_PATTERN.test(s), 'must be 1-10 letters/digits, or 1-15 digits'),
  XOXZO_TIMEOUT_MS: int(5000, 100, 60000),
  PIN_LENGTH: int(6, 4, 8),
  PIN_TTL_SECONDS: int(300, 60, 600),
  PIN_MAX_ATTEMPTS: int(5, 1, 20),
  PIN_RESEND_SECONDS: int(30, 0, 3600),
  PARTIAL_TOKEN_TTL_SECONDS: int(600, 60, 3600),
  ACCESS_TOKEN_TTL_SECONDS: int(900, 60, 86400),
  REFRESH_TOKEN_TTL_SECONDS: int(2592000, 300, 31536000),
  REFRESH_REUSE_GRACE_SECONDS: int(5, 0, 60),
  SESSION_MAX_SECONDS: int(7776000, 300, 31536000),
  XOXZO_TEMPLATE_ID: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a template id')
      .optional(),
  ),
  XOXZO_TEMPLATE_IDS: optionalString.pipe(
    z
      .string()
      .regex(/^[a-z]{2}:[A-Za-z0-9_-]{1,64}(,[a-z]{2}:[A-Za-z0-9_-]{1,64})*$/, 'must look like en:12,ja:13')
      .optional(),
  ),
  XOXZO_TEMPLATE_PIN_VARIABLE: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,40}$/)
    .default('pin'),
  XOXZO_TEMPLATE_MINUTES_VARIABLE: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,40}$/)
    .default('minutes'),
  SMS_DEADLINE_MS: int(8000, 500, 60000),
  SMS_BREAKER_THRESHOLD: int(5, 1, 1000),
  SMS_BREAKER_COOLDOWN_SECONDS: int(30, 1, 3600),
  PUBLIC_BASE_URL: optionalString.pipe(
    z
      .url({ protocol: /^https?$/ })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
  ),
  APP_ORIGIN_DOMAIN: optionalString.pipe(
    z
      .string()
      .regex(
        /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i,
        'must be a host name like app.example.com',
      )
      .optional(),
  ),
  // Checked entry by entry in `testNumbers` (the problems name the number, never the PIN).
  SMS_TEST_NUMBERS: optionalString,
  SMS_TEST_NUMBERS_IN_PRODUCTION: z.enum(['true', 'false']).default('false'),
  SMS_ALLOWED_COUNTRIES: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z]{2}(,[A-Za-z]{2})*$/, 'must look like JP,US')
      .optional(),
  ),
  SMS_LIMIT_PER_PHONE_HOUR: int(5, 0, 1000),
  SMS_LIMIT_PER_PHONE_DAY: int(10, 0, 10000),
  SMS_LIMIT_PER_ACCOUNT_HOUR: int(10, 0, 1000),
  SMS_LIMIT_PER_IP_HOUR: int(10, 0, 100000),
  SMS_LIMIT_GLOBAL_PER_MINUTE: int(100, 0, 1000000),
  LOGIN_LIMIT_PER_IP_15MIN: int(100, 0, 1000000),
  LOGIN_FREE_FAILURES: int(5, 1, 100),
  LOGIN_MAX_DELAY_SECONDS: int(900, 1, 86400),
  LOGIN_LOCKOUT_THRESHOLD: int(100, 0, 100),
  LOGIN_LOCKOUT_SECONDS: int(3600, 1, 604800),
  PIN_CHECKS_PER_ACCOUNT_15MIN: int(10, 0, 1000),
  TRUST_PROXY: optionalString,
  AUDIT_RETENTION_DAYS: int(365, 1, 3650),
  CORS_ORIGINS: optionalString,
});

/** `key:value,key:value` as entries, in order (duplicates kept, see `duplicateKeys`). */
function entries(value: string | undefined): [string, string][] {
  return list(value).map((pair) => {
    const at = pair.indexOf(':');
    return [pair.slice(0, at), pair.slice(at + 1)];
  });
}

function pairs(value: string | undefined): Map<string, string> {
  return new Map(entries(value));
}

/** The keys listed more than once in `key:value,...`. */
function duplicateKeys(value: string | undefined): string[] {
  const keys = entries(value).map(([key]) => key);
  return [...new Set(keys.filter((key, i) => keys.indexOf(key) !== i))];
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

const MIN_SECRET_LENGTH = 32;

/** proxy-addr's names for address ranges, accepted in TRUST_PROXY. */
const TRUST_PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * One TRUST_PROXY entry as Fastify's proxy-addr takes it: an IPv4/IPv6 address, a CIDR with a prefix length
 * valid for its family (1-32 / 1-128; proxy-addr refuses 0), or a keyword.
 */
function isTrustProxyEntry(entry: string): boolean {
  if (TRUST_PROXY_KEYWORDS.includes(entry)) return true;
  const slash = entry.indexOf('/');
  if (slash === -1) return isIP(entry) !== 0;
  const family = isIP(entry.slice(0, slash));
  const prefix = entry.slice(slash + 1);
  if (family === 0 || !/^[0-9]{1,3}$/.test(prefix)) return false;
  return Number(prefix) >= 1 && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** `TRUST_PROXY`: unset or `false` → off; otherwise every listed entry must be a proxy-addr entry. */
function trustProxyOf(value: string | undefined, problems: string[]): false | string[] {
  if (value === undefined || value === 'false') return false;
  const entries = list(value);
  const bad = entries.filter((entry) => !isTrustProxyEntry(entry));
  if (bad.length || entries.length === 0) {
    problems.push(
      `TRUST_PROXY: ${bad.length ? bad.map((b) => JSON.stringify(b)).join(', ') : JSON.stringify(value)} not accepted; ` +
        'use false (or leave it unset) for off, or a comma-separated list of IP addresses (10.0.0.1, ::1), ' +
        `CIDRs (10.0.0.0/8, fc00::/7) and the keywords ${TRUST_PROXY_KEYWORDS.join(', ')}`,
    );
  }
  return entries;
}

/**
 * `SMS_TEST_NUMBERS` (`+12015550123:123456,...`) as E.164 → PIN. Every number must be one registration accepts
 * (`toE164`), listed once, with a PIN of exactly `pinLength` digits (skipped when `pinLength` is undefined,
 * i.e. PIN_LENGTH is itself invalid). Problems name the number, never the PIN.
 */
function testNumbersOf(value: string | undefined, pinLength: number | undefined, problems: string[]) {
  const numbers = new Map<string, string>();
  list(value).forEach((entry, index) => {
    const at = entry.indexOf(':');
    if (at === -1) {
      problems.push(`SMS_TEST_NUMBERS: entry ${index + 1} is not <+number>:<PIN> (like +12015550123:123456)`);
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
      problems.push(
        `SMS_TEST_NUMBERS: ${shown} is not a valid phone number in international format ` +
          '(+<country code><number>); registration would refuse it',
      );
    } else if (numbers.has(e164)) {
      problems.push(`SMS_TEST_NUMBERS: ${e164} is listed more than once`);
    }
    if (pinLength !== undefined && !(pin.length === pinLength && /^[0-9]+$/.test(pin))) {
      problems.push(
        `SMS_TEST_NUMBERS: the PIN for ${e164 ?? `entry ${index + 1}`} must be exactly ${pinLength} digits (PIN_LENGTH)`,
      );
    }
    if (e164 && !numbers.has(e164)) numbers.set(e164, pin);
  });
  return numbers;
}

/** The PIN SMS's worst case: the longest PIN (PIN_LENGTH's maximum) and 10 minutes (PIN_TTL_SECONDS' maximum). */
const WORST_PIN = '0'.repeat(8);
const WORST_MINUTES = 10;

/** Whether every locale's PIN SMS still fits one segment in the worst case with this WebOTP domain. */
function fitsOneSegment(originDomain: string): boolean {
  return PIN_SMS_LOCALES.every(
    (locale) =>
      segments(renderPinSms({ pin: WORST_PIN, minutes: WORST_MINUTES, locale, originDomain })) === 1,
  );
}

/** The longest APP_ORIGIN_DOMAIN that keeps every PIN SMS in one segment (host names are ASCII). */
function longestOriginDomain(): number {
  let length = 0;
  while (length < 253 && fitsOneSegment('a'.repeat(length + 1))) length++;
  return length;
}

/**
 * Validates the environment and returns the typed configuration, or throws a `ConfigError` naming every
 * variable that is wrong. `generateSecret` is only used outside production when `JWT_SECRET` is unset.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  generateSecret: () => string = () => crypto.randomUUID() + crypto.randomUUID(),
): AppConfig {
  let parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  const malformed = new Set<string>();
  if (!parsed.success) {
    // Report every problem in one go: collect the malformed variables, then check the rest without them.
    for (const issue of parsed.error.issues) malformed.add(String(issue.path[0]));
    problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    parsed = envSchema.safeParse(
      Object.fromEntries(Object.entries(env).filter(([key]) => !malformed.has(key))),
    );
    if (!parsed.success) throw new ConfigError(problems);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';

  if (production && !e.JWT_SECRET) problems.push('JWT_SECRET: required when NODE_ENV=production');
  if (e.JWT_SECRET && e.JWT_SECRET.length < MIN_SECRET_LENGTH) {
    problems.push(`JWT_SECRET: must be at least ${MIN_SECRET_LENGTH} characters`);
  }

  const driver = e.SMS_DRIVER ?? (e.XOXZO_API_SID ? 'xoxzo' : 'console');
  if (driver === 'xoxzo') {
    if (!e.XOXZO_API_SID) problems.push('XOXZO_API_SID: required when SMS_DRIVER=xoxzo');
    if (!e.XOXZO_API_AUTH_TOKEN) problems.push('XOXZO_API_AUTH_TOKEN: required when SMS_DRIVER=xoxzo');
  }
  if (production && driver === 'console' && e.SMS_DRIVER !== 'console') {
    problems.push(
      'SMS_DRIVER: NODE_ENV=production would fall back to the console SMS driver (PINs in the log); ' +
        'set XOXZO_API_SID/XOXZO_API_AUTH_TOKEN, or SMS_DRIVER=console explicitly',
    );
  }
  if (e.PIN_TTL_SECONDS > e.PARTIAL_TOKEN_TTL_SECONDS) {
    problems.push('PIN_TTL_SECONDS: must not exceed PARTIAL_TOKEN_TTL_SECONDS');
  }
  const testNumbers = testNumbersOf(
    e.SMS_TEST_NUMBERS,
    malformed.has('PIN_LENGTH') ? undefined : e.PIN_LENGTH,
    problems,
  );
  if (production && testNumbers.size && e.SMS_TEST_NUMBERS_IN_PRODUCTION !== 'true') testNumbers.clear();
  const corsOrigins = list(e.CORS_ORIGINS);
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin))
      problems.push(`CORS_ORIGINS: ${origin} is not an origin like https://app.example.com`);
  }
  const trustProxy = trustProxyOf(e.TRUST_PROXY, problems);
  const appOriginDomain = e.APP_ORIGIN_DOMAIN?.toLowerCase();
  if (appOriginDomain && !fitsOneSegment(appOriginDomain)) {
    problems.push(
      `APP_ORIGIN_DOMAIN: too long (${appOriginDomain.length} characters) for the PIN SMS to stay in one segment ` +
        `with the WebOTP line; at most ${longestOriginDomain()} characters`,
    );
  }
  const templateLocales = [...pairs(e.XOXZO_TEMPLATE_IDS).keys()];
  const unknownLocales = templateLocales.filter((l) => !(PIN_SMS_LOCALES as readonly string[]).includes(l));
  if (unknownLocales.length) {
    problems.push(
      `XOXZO_TEMPLATE_IDS: no PIN text for ${unknownLocales.join(', ')} (supported: ${PIN_SMS_LOCALES.join(', ')})`,
    );
  }
  const uncovered = PIN_SMS_LOCALES.filter((l) => !templateLocales.includes(l));
  if (templateLocales.length && uncovered.length && !e.XOXZO_TEMPLATE_ID) {
    problems.push(
      `XOXZO_TEMPLATE_IDS: no template for ${uncovered.join(', ')}; add them or set XOXZO_TEMPLATE_ID for the rest ` +
        '(template-only Xoxzo accounts cannot send freeform SMS)',
    );
  }
  const unknownCountries = list(e.SMS_ALLOWED_COUNTRIES).filter((c) => !isSupportedCountry(c.toUpperCase()));
  if (unknownCountries.length) {
    problems.push(
      `SMS_ALLOWED_COUNTRIES: ${unknownCountries.join(', ')} not ISO 3166 alpha-2 codes (e.g. GB, not UK)`,
    );
  }
  for (const locale of duplicateKeys(e.XOXZO_TEMPLATE_IDS)) {
    problems.push(`XOXZO_TEMPLATE_IDS: locale ${locale} is given more than once`);
  }
  if (problems.length) throw new ConfigError(problems);

  return {
    nodeEnv: e.NODE_ENV,
    http: { port: e.PORT, host: e.HOST ?? (production ? '0.0.0.0' : '127.0.0.1') },
    database: { url: e.DATABASE_URL, dataDir: e.DATA_DIR },
    jwt: {
      secret: e.JWT_SECRET ?? generateSecret(),
      secretGenerated: !e.JWT_SECRET,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      partialTokenTtlSeconds: e.PARTIAL_TOKEN_TTL_SECONDS,
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
      refreshReuseGraceSeconds: e.REFRESH_REUSE_GRACE_SECONDS,
      sessionMaxSeconds: e.SESSION_MAX_SECONDS,
    },
    pin: {
      length: e.PIN_LENGTH,
      ttlSeconds: e.PIN_TTL_SECONDS,
      maxAttempts: e.PIN_MAX_ATTEMPTS,
      resendSeconds: e.PIN_RESEND_SECONDS,
    },
    sms: {
      driver,
      xoxzo: {
        apiUrl: e.XOXZO_API_URL,
        sid: e.XOXZO_API_SID,
        authToken: e.XOXZO_API_AUTH_TOKEN,
        sender: e.XOXZO_SENDER,
        timeoutMs: e.XOXZO_TIMEOUT_MS,
        templates: {
          byLocale: Object.fromEntries(pairs(e.XOXZO_TEMPLATE_IDS)),
          default: e.XOXZO_TEMPLATE_ID,
          pinVariable: e.XOXZO_TEMPLATE_PIN_VARIABLE,
          minutesVariable: e.XOXZO_TEMPLATE_MINUTES_VARIABLE,
        },
      },
      deadlineMs: e.SMS_DEADLINE_MS,
      breaker: { threshold: e.SMS_BREAKER_THRESHOLD, cooldownSeconds: e.SMS_BREAKER_COOLDOWN_SECONDS },
      publicBaseUrl: e.PUBLIC_BASE_URL,
      appOriginDomain,
      testNumbers,
      allowedCountries: list(e.SMS_ALLOWED_COUNTRIES).map((c) => c.toUpperCase()),
    },
    limits: {
      sms: {
        perPhoneHour: e.SMS_LIMIT_PER_PHONE_HOUR,
        perPhoneDay: e.SMS_LIMIT_PER_PHONE_DAY,
        perAccountHour: e.SMS_LIMIT_PER_ACCOUNT_HOUR,
        perIpHour: e.SMS_LIMIT_PER_IP_HOUR,
        globalPerMinute: e.SMS_LIMIT_GLOBAL_PER_MINUTE,
      },
      login: {
        perIp15Min: e.LOGIN_LIMIT_PER_IP_15MIN,
        freeFailures: e.LOGIN_FREE_FAILURES,
        maxDelaySeconds: e.LOGIN_MAX_DELAY_SECONDS,
        lockoutThreshold: e.LOGIN_LOCKOUT_THRESHOLD,
        lockoutSeconds: e.LOGIN_LOCKOUT_SECONDS,
      },
      pinChecksPerAccount15Min: e.PIN_CHECKS_PER_ACCOUNT_15MIN,
    },
    trustProxy,
    corsOrigins,
    retention: { auditDays: e.AUDIT_RETENTION_DAYS },
  };
}
