import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { registerAndVerify } from '../support/test-app.js';
import {
  ENDPOINT_NAMES,
  EndpointName,
  ENDPOINTS,
  hasPoisonedKey,
  objectBody,
  P,
  q,
} from './endpoint-contracts.js';
import { fuzzHarness } from './harness.js';
import { oddTopLevel } from './json-arbitraries.js';

/**
 * Property-based fuzzing of every endpoint that takes a body, over real HTTP. Bodies are built as raw JSON
 * text (so that `__proto__` keys, lone surrogates, duplicate keys, deep nesting and broken JSON reach the
 * server as written). For every request:
 *  1. never a 5xx; an error is JSON `{statusCode, code, message}` with a documented code;
 *  2. a rejected request (4xx) changes no state (users, login_attempts, sessions, refresh_tokens, SMS sent);
 *     audit and limit bookkeeping may change, and PIN_INVALID may raise the attempt's failed_checks only;
 *  3. a body the contract refuses (not an object, wrong type, unknown field, bad shape) gets 400, and one
 *     over the body limit 413, before anything else happens.
 */

/** FUZZ_SCALE=5 multiplies every property's runs (about a minute instead of ~15 s) for a longer hunt. */
const scale = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1));
const runs = (n: number) => Math.round(n * scale);
const TIMEOUT = 60_000 * scale;

/**
 * Bodies run first on every run (fast-check `examples`): the minimal counterexamples fast-check found, so
 * that they fail deterministically until fixed (resend's, which validates no body, is a control):
 * - arrays nested ~1300 deep (a 2.6 KB body) overflow class-transformer's recursion → 500;
 * - an email holding a lone surrogate makes validator's isEmail throw URIError (encodeURI) → 500.
 */
const DEEP_ARRAYS = `${'['.repeat(2000)}${']'.repeat(2000)}`;
const ALWAYS_RUN: Record<EndpointName, string[]> = {
  register: ['{"email":"\\ud800"}', DEEP_ARRAYS],
  login: ['{"email":"\\udfff"}', `{"email":${DEEP_ARRAYS},"password":"x"}`],
  verify: [`{"pin":${DEEP_ARRAYS}}`],
  resend: [DEEP_ARRAYS],
  refresh: [`{"refreshToken":${DEEP_ARRAYS}}`],
  logout: [`{"refreshToken":${DEEP_ARRAYS}}`],
};

describe('fuzzing the bodies of every endpoint (fast-check)', () => {
  const fuzz = fuzzHarness();
  const { seen, substitute, exercise } = fuzz;

  describe.each(ENDPOINT_NAMES.map((name) => [ENDPOINTS[name].path, ENDPOINTS[name]] as const))(
    'POST %s',
    (_path, endpoint) => {
      it(
        'answers fuzzed object bodies without a 5xx, with a documented error, and changes nothing when it refuses',
        async () => {
          await fc.assert(
            fc.asyncProperty(objectBody(endpoint), async (raw) => {
              await exercise(endpoint, raw);
            }),
            { numRuns: runs(45), examples: ALWAYS_RUN[endpoint.name].map((raw) => [raw]) },
          );
        },
        TIMEOUT,
      );
    },
  );

  it(
    'answers random top-level bodies (any JSON value, broken JSON, random bytes) to every endpoint',
    async () => {
      const body = fc.oneof(
        { weight: 4, arbitrary: oddTopLevel },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...ENDPOINT_NAMES), body, async (name, raw) => {
          await exercise(ENDPOINTS[name], raw);
        }),
        { numRuns: runs(60) },
      );
    },
    TIMEOUT,
  );

  it(
    'refuses other media types with 415 (or 413), whatever the body; forms change nothing when refused',
    async () => {
      const contentType = fc.constantFrom(
        null,
        '',
        'text/plain',
        'text/plain; charset=utf-8',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'application/vnd.api+json',
        'application/json-patch+json',
        'application/jsonx',
        'application/json; charset=utf-8',
        'APPLICATION/JSON',
        'application/json;charset=latin1',
        'application/json; charset=utf-16',
        'application/json, text/plain',
        '*/*',
      );
      const body = fc.oneof(
        objectBody(ENDPOINTS.register),
        fc.constantFrom(
          'email=a%40b.c&password=x',
          'pin=123&pin=456',
          '__proto__[polluted]=1&refreshToken=x',
          'constructor[prototype][polluted]=1',
          'email=%ED%A0%80%40b.co&password=x', // a lone surrogate, percent-encoded
          'refreshToken=%00',
          '=&&=%',
        ),
        fc
          .dictionary(fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 12 }), {
            maxKeys: 4,
          })
          .map((d) => new URLSearchParams(d).toString()),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...ENDPOINT_NAMES), contentType, body, async (name, type, raw) => {
          await exercise(ENDPOINTS[name], raw, { contentType: type });
        }),
        { numRuns: runs(40) },
      );
    },
    TIMEOUT,
  );

  describe('prototype pollution', () => {
    /** Valid fields of each endpoint, so that the polluting key alone decides. */
    const validFields: Record<EndpointName, string> = {
      register: `"email":${q(P.newEmail)},"password":"correct horse battery staple","phone":${q(P.newPhone)}`,
      login: `"email":${q(P.realEmail)},"password":${q(P.realPassword)}`,
      verify: '"pin":"00000000"',
      resend: '',
      refresh: `"refreshToken":${q(P.refreshToken)}`,
      logout: '',
    };
    const pollution = fc.constantFrom(
      '"__proto__":{"polluted":1}',
      '"\\u005f_proto__":{"polluted":1}',
      '"constructor":{"prototype":{"polluted":1}}',
      '"prototype":{"polluted":1}',
      '"constructor":{"polluted":1}',
      '"__proto__":{"isAdmin":true,"toString":null}',
    );

    it(
      'refuses bodies with __proto__ / constructor / prototype keys with 400, at any depth',
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...ENDPOINT_NAMES),
            pollution,
            fc.constantFrom('top-first', 'top-last', 'nested', 'in-array'),
            async (name, key, where) => {
              const endpoint = ENDPOINTS[name];
              const fields = validFields[endpoint.name];
              const first = Object.keys(endpoint.fields ?? {})[0] ?? 'x';
              let raw: string;
              if (where === 'top-first') raw = `{${[key, fields].filter(Boolean).join(',')}}`;
              else if (where === 'top-last') raw = `{${[fields, key].filter(Boolean).join(',')}}`;
              else if (where === 'nested') raw = `{${q(first)}:{${key}}}`;
              else raw = `[{${[fields, key].filter(Boolean).join(',')}}]`;
              // The body is ignored by /auth/2fa/resend: only what the JSON parser refuses is refused there.
              const parserRefuses = hasPoisonedKey(JSON.parse(substitute(raw)));
              await exercise(endpoint, raw, { expectRefusal: endpoint.fields !== null || parserRefuses });
            },
          ),
          {
            numRuns: runs(40),
            // Found by this property: Nest's ValidationPipe deletes `constructor` / `prototype` keys before the
            // whitelist check, so they are not refused as unknown fields (and the request goes through).
            examples: [['register', '"constructor":{"polluted":1}', 'top-first']],
          },
        );
      },
      TIMEOUT,
    );

    it('leaves the server answering normally: register, verify and /users/me show no polluted key', async () => {
      const t = fuzz.app();
      // The app runs in this Jest worker (same realm): a polluted Object.prototype would show here too.
      expect(Object.getOwnPropertyNames(Object.prototype)).not.toEqual(expect.arrayContaining(['polluted']));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      const { identity, session } = await registerAndVerify(t);
      const me = await t.get('/users/me', session.accessToken);
      expect(me.status).toBe(200);
      expect(me.body).toEqual(
        expect.objectContaining({ email: identity.email, phone: identity.phone, phoneVerified: true }),
      );
      const refreshed = await t.post('/auth/refresh', { refreshToken: session.refreshToken });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body).toEqual(expect.objectContaining({ authLevel: 'full', tokenType: 'Bearer' }));
      const notFound = await t.get('/no/such/route');
      expect(notFound.body).toEqual({ statusCode: 404, code: 'NOT_FOUND', message: expect.anything() });
      const wrong = await t.post('/auth/login', { email: identity.email, password: 'wrong password!' });
      expect(wrong.status).toBe(401);
      for (const body of [me.body, refreshed.body, notFound.body, wrong.body]) {
        expect(Object.keys(body)).not.toEqual(expect.arrayContaining(['polluted']));
        expect(Object.keys(body)).not.toEqual(expect.arrayContaining(['isAdmin']));
      }
    });
  });

  it('answered no fuzzed request with a 5xx', () => {
    const all = Object.values(seen).flatMap((byStatus) => Object.entries(byStatus));
    expect(all.filter(([status]) => Number(status) >= 500)).toEqual([]);
    expect(all.reduce((n, [, count]) => n + count, 0)).toBeGreaterThan(300);
  });
});
