import fc from 'fast-check';
import {
  anyValue,
  deepValue,
  hugeString,
  oddString,
  pollutingValue,
  spliced,
  unknownKey,
  wrongType,
  ws,
} from './json-arbitraries.js';

/**
 * The endpoints that take a body and what their contract says about it: the error codes an answer may
 * carry, each declared field's rule, a generator of object bodies per endpoint, and the `verdict` on a body
 * (certainly refused with 400, or any documented answer).
 */

export const DOCUMENTED_CODES = [
  'VALIDATION_FAILED',
  'INVALID_CREDENTIALS',
  'UNAUTHENTICATED',
  'SECOND_FACTOR_REQUIRED',
  'PIN_INVALID',
  'PIN_EXPIRED',
  'CHALLENGE_CLOSED',
  'REFRESH_INVALID',
  'EMAIL_TAKEN',
  'PHONE_TAKEN',
  'RESEND_TOO_SOON',
  'TOO_MANY_REQUESTS',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'NOT_FOUND',
];

const PIN = /^[0-9]{4,8}$/;
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{20,128}$/;

/** Placeholders replaced at send time by live values (real credentials, a fresh identity, a refresh token). */
export const P = {
  realEmail: '@@REAL_EMAIL@@',
  realPassword: '@@REAL_PASSWORD@@',
  newEmail: '@@NEW_EMAIL@@',
  newPhone: '@@NEW_PHONE@@',
  takenEmail: '@@TAKEN_EMAIL@@',
  takenPhone: '@@TAKEN_PHONE@@',
  refreshToken: '@@REFRESH_TOKEN@@',
  logoutRefreshToken: '@@LOGOUT_REFRESH_TOKEN@@',
};
export const q = (s: string) => JSON.stringify(s);

export interface FieldRule {
  required: boolean;
  /** true when the value breaks the contract for certain (a 400 is then the only right answer). */
  refuses: (value: unknown) => boolean;
  /** Raw JSON of values that follow the contract (or may). */
  valid: fc.Arbitrary<string>;
  /** A plausible value to splice odd characters into. */
  sample: string;
}

export type EndpointName = 'register' | 'login' | 'verify' | 'resend' | 'refresh' | 'logout';

export interface Endpoint {
  name: EndpointName;
  path: string;
  /** Declared body fields; `null` when the body is ignored (only parsed). */
  fields: Record<string, FieldRule> | null;
  /** `null` is treated as no body (IsOptional-only DTOs): not a certain refusal. */
  nullIsEmpty?: boolean;
}

const notString = (v: unknown) => typeof v !== 'string';
const emailRefused = (v: unknown) =>
  typeof v !== 'string' || v.trim().length > 254 || !v.includes('@') || v.trim().length === 0;

const emailRule = (valid: string[]): FieldRule => ({
  required: true,
  refuses: emailRefused,
  valid: fc.oneof(fc.constantFrom(...valid.map(q)), fc.emailAddress().map(q)),
  sample: 'fuzz.user@example.com',
});

export const ENDPOINTS: Record<EndpointName, Endpoint> = {
  register: {
    name: 'register',
    path: '/auth/register',
    fields: {
      email: emailRule([P.newEmail, P.newEmail, P.takenEmail, `  ${P.newEmail}\t`]),
      password: {
        required: true,
        refuses: (v) => notString(v) || (v as string).length < 8 || (v as string).length > 128,
        valid: fc.string({ unit: 'binary', minLength: 8, maxLength: 128 }).map(q),
        sample: 'correct horse battery staple',
      },
      phone: {
        required: true,
        refuses: (v) => notString(v) || !/^\+[0-9 ()\-.]{4,30}$/.test((v as string).trim()),
        valid: fc.constantFrom(
          q(P.newPhone),
          q(P.newPhone),
          q(P.takenPhone),
          q('+14155552671'),
          q('+447911123456'),
          q('+81 90-1234-5678'),
          q('+810901234567'),
        ),
        sample: '+819012345678',
      },
    },
  },
  login: {
    name: 'login',
    path: '/auth/login',
    fields: {
      email: emailRule([P.realEmail, P.realEmail, P.newEmail, ` ${P.realEmail.toUpperCase()} `]),
      password: {
        required: true,
        refuses: (v) => notString(v) || (v as string).length < 1 || (v as string).length > 128,
        valid: fc.oneof(
          fc.constant(q(P.realPassword)),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 128 }).map(q),
        ),
        sample: 'correct horse battery staple',
      },
    },
  },
  verify: {
    name: 'verify',
    path: '/auth/2fa/verify',
    fields: {
      pin: {
        required: true,
        refuses: (v) => notString(v) || !PIN.test(v as string),
        // Well-formed PINs spend one of the attempt's checks (PIN_INVALID): rarely.
        valid: fc.stringMatching(PIN).map(q),
        sample: '123456',
      },
    },
  },
  resend: { name: 'resend', path: '/auth/2fa/resend', fields: null },
  refresh: {
    name: 'refresh',
    path: '/auth/refresh',
    fields: {
      refreshToken: {
        required: true,
        refuses: (v) => notString(v) || !REFRESH_TOKEN.test(v as string),
        valid: fc.oneof(fc.constant(q(P.refreshToken)), fc.stringMatching(REFRESH_TOKEN).map(q)),
        sample: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345-_',
      },
    },
  },
  logout: {
    name: 'logout',
    path: '/auth/logout',
    nullIsEmpty: true,
    fields: {
      refreshToken: {
        required: false,
        refuses: (v) => v !== null && (notString(v) || !REFRESH_TOKEN.test(v as string)),
        valid: fc.oneof(
          fc.constant(q(P.logoutRefreshToken)),
          fc.stringMatching(REFRESH_TOKEN).map(q),
          fc.constant('null'),
        ),
        sample: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345-_',
      },
    },
  },
};
export const ENDPOINT_NAMES = Object.keys(ENDPOINTS) as EndpointName[];

/** A raw JSON object body for an endpoint: each declared field valid, odd, wrong-typed or missing, plus extras. */
export function objectBody(endpoint: Endpoint): fc.Arbitrary<string> {
  const declared = Object.entries(endpoint.fields ?? ENDPOINTS.verify.fields!);
  const entries = declared.map(([name, rule]) =>
    fc.option(
      fc
        .oneof(
          { weight: 5, arbitrary: rule.valid },
          { weight: 2, arbitrary: wrongType },
          { weight: 2, arbitrary: oddString },
          { weight: 2, arbitrary: spliced(rule.sample) },
          { weight: 1, arbitrary: hugeString },
          { weight: 1, arbitrary: deepValue },
        )
        .map((value): [string, string] => [q(name), value]),
      { freq: 6 },
    ),
  );
  const extra = fc.oneof(
    fc.tuple(unknownKey, fc.oneof(anyValue, pollutingValue)),
    // A declared key given twice (the last one wins).
    fc.tuple(fc.constantFrom(...declared.map(([name]) => q(name))), anyValue),
  );
  const extras = fc.oneof(
    { weight: 3, arbitrary: fc.constant([] as [string, string][]) },
    { weight: 2, arbitrary: fc.array(extra, { minLength: 1, maxLength: 3 }) },
  );
  return fc
    .tuple(fc.tuple(...entries), extras, fc.boolean(), ws, ws)
    .map(([fields, more, extrasFirst, w1, w2]) => {
      const present = fields.filter((f): f is [string, string] => f !== null);
      const all = extrasFirst ? [...more, ...present] : [...present, ...more];
      return `${w1}{${all.map(([k, v]) => `${w1}${k}${w2}:${w2}${v}`).join(',')}${w2}}${w1}`;
    });
}

/** The body the contract certainly refuses (400), or `maybe` (any documented answer). */
export function verdict(endpoint: Endpoint, text: string): 'refuse' | 'maybe' {
  let value: unknown;
  try {
    // Fastify (secure-json-parse) skips a leading BOM.
    value = JSON.parse(text.replace(/^\ufeff/, ''));
  } catch {
    return 'refuse';
  }
  if (hasPoisonedKey(value)) return 'refuse';
  if (endpoint.fields === null) return 'maybe';
  if (value === null && endpoint.nullIsEmpty) return 'maybe';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'refuse';
  const body = value as Record<string, unknown>;
  for (const key of Object.keys(body)) if (!(key in endpoint.fields)) return 'refuse';
  for (const [name, rule] of Object.entries(endpoint.fields)) {
    if (!(name in body)) {
      if (rule.required) return 'refuse';
    } else if (rule.refuses(body[name])) return 'refuse';
  }
  return 'maybe';
}

/** What Fastify's JSON parser refuses anywhere in a body: `__proto__`, or `constructor.prototype`. */
export function hasPoisonedKey(value: unknown): boolean {
  const stack = [value];
  while (stack.length) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    if (Object.prototype.hasOwnProperty.call(node, '__proto__')) return true;
    const ctor = (node as Record<string, unknown>).constructor;
    if (
      Object.prototype.hasOwnProperty.call(node, 'constructor') &&
      typeof ctor === 'object' &&
      ctor !== null &&
      Object.prototype.hasOwnProperty.call(ctor, 'prototype')
    ) {
      return true;
    }
    stack.push(...Object.values(node));
  }
  return false;
}
