import { afterAll, beforeAll, expect } from '@jest/globals';
import { BODY_LIMIT_BYTES } from '../../src/bootstrap.js';
import type { Identity } from '../support/auth-api.js';
import { decodeJwt } from '../support/jwt-forge.js';
import { newIdentity, registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';
import { DOCUMENTED_CODES, Endpoint, P, verdict } from './endpoint-contracts.js';

/**
 * The fuzzing harness of fuzz.e2e-spec.ts: one app, a user per endpoint whose credentials and tokens the
 * fuzzed bodies may carry, and `exercise`, which sends one body and checks properties 1–3 on the answer.
 */

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
  body: any;
}

/** What a refused request must leave as it was (audit and limit tables are left out on purpose). */
interface Snapshot {
  users: string;
  sessions: string;
  refreshTokens: string;
  attemptsWithoutChecks: string;
  attempts: string;
  failedChecks: number;
  sms: number;
}

const digest = (table: string, row = 'to_jsonb(x)') =>
  `(SELECT count(*) || ':' || md5(coalesce(string_agg(${row}::text, '|' ORDER BY ${row}::text), '')) FROM ${table} x)`;

/**
 * Call at the top of a describe: starts the app and its users before the describe's tests, closes it after
 * them. `seen` counts the answers per endpoint and status.
 */
export function fuzzHarness() {
  let t: TestApp;
  /** Per endpoint: status → count, for the final checks (and FUZZ_STATS=1). */
  const seen: Record<string, Record<number, number>> = {};

  /** The user whose credentials the login fuzz may send; never logged out. */
  let loginUser: Identity;
  /** The user of the verify fuzz, and the partial token it currently uses. */
  let verifyUser: Identity;
  let verifyToken: string;
  /** The user of the resend fuzz. */
  let resendToken: string;
  /** The user of the refresh fuzz: its live refresh token (rotated when a fuzzed body happens to be right). */
  let refreshToken: string;
  /** The user of the logout fuzz: a full session, replaced when a fuzzed body logs it out. */
  let logoutUser: Identity;
  let logoutSession: { accessToken: string; refreshToken: string };
  /** A verified user: its email and phone are taken. */
  let taken: Identity;

  async function loginPartial(identity: Identity): Promise<string> {
    const res = await t.post('/auth/login', { email: identity.email, password: identity.password });
    if (res.status !== 200) throw new Error(`login failed: ${JSON.stringify(res.body)}`);
    return res.body.accessToken as string;
  }

  async function fullSession(identity: Identity): Promise<{ accessToken: string; refreshToken: string }> {
    const partial = await loginPartial(identity);
    const res = await t.post('/auth/2fa/verify', { pin: t.xoxzo.lastPinFor(identity.phone) }, partial);
    if (res.status !== 200) throw new Error(`verify failed: ${JSON.stringify(res.body)}`);
    return res.body as { accessToken: string; refreshToken: string };
  }

  beforeAll(async () => {
    t = await startTestApp();
    const users = await Promise.all(Array.from({ length: 5 }, () => registerAndVerify(t)));
    loginUser = users[0].identity;
    verifyUser = users[1].identity;
    verifyToken = await loginPartial(verifyUser);
    resendToken = await loginPartial(users[2].identity);
    refreshToken = users[3].session.refreshToken;
    logoutUser = users[4].identity;
    logoutSession = users[4].session;
    taken = users[0].identity;
  }, 60_000);

  afterAll(async () => {
    if (process.env.FUZZ_STATS) process.stderr.write(`fuzz statuses: ${JSON.stringify(seen)}\n`);
    await t?.close();
  }, 30_000);

  function tokenFor(endpoint: Endpoint): string | undefined {
    if (endpoint.name === 'verify') return verifyToken;
    if (endpoint.name === 'resend') return resendToken;
    if (endpoint.name === 'logout') return logoutSession.accessToken;
    return undefined;
  }

  function substitute(text: string): string {
    const fresh = newIdentity();
    return text
      .replaceAll(P.realEmail.toUpperCase(), loginUser.email.toUpperCase())
      .replaceAll(P.realEmail, loginUser.email)
      .replaceAll(P.realPassword, loginUser.password)
      .replaceAll(P.newEmail, fresh.email)
      .replaceAll(P.newPhone, fresh.phone)
      .replaceAll(P.takenEmail, taken.email)
      .replaceAll(P.takenPhone, taken.phone)
      .replaceAll(P.refreshToken, refreshToken)
      .replaceAll(P.logoutRefreshToken, logoutSession.refreshToken);
  }

  async function snapshot(): Promise<Snapshot> {
    const { rows } = await t.db.query(
      `SELECT ${digest('users')} AS users, ${digest('sessions')} AS sessions,
              ${digest('refresh_tokens')} AS "refreshTokens",
              ${digest('login_attempts', "(to_jsonb(x) - 'failed_checks')")} AS "attemptsWithoutChecks",
              ${digest('login_attempts')} AS attempts,
              (SELECT coalesce(sum(failed_checks), 0)::int FROM login_attempts) AS "failedChecks"`,
    );
    return { ...(rows[0] as Omit<Snapshot, 'sms'>), sms: t.xoxzo.sent.length };
  }

  async function failedChecksOf(token: string): Promise<number | undefined> {
    const { rows } = await t.db.query('SELECT failed_checks FROM login_attempts WHERE id = $1', [
      decodeJwt(token).payload.jti,
    ]);
    return rows[0]?.failed_checks as number | undefined;
  }

  async function post(
    path: string,
    body: string | Uint8Array | undefined,
    token: string | undefined,
    contentType: string | null,
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (contentType !== null) headers['content-type'] = contentType;
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${t.url.replace('[::1]', '127.0.0.1')}${path}`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, contentType: response.headers.get('content-type'), text, body: parsed };
  }

  function expectStatusIn(what: string, status: number, allowed: number[]) {
    expect({ what, status }).toEqual({ what, status: allowed.includes(status) ? status : allowed });
  }

  /** Property 1: no 5xx, and every error has the documented shape. */
  function expectWellFormed(res: Answer, what: string) {
    const context = `${what} → ${res.status} ${res.text.slice(0, 300)}`;
    expect({ context, serverError: res.status >= 500 }).toEqual({ context, serverError: false });
    if (res.status < 400) return;
    expect(res.contentType ?? '').toMatch(/^application\/json/);
    expect(res.body).toEqual(
      expect.objectContaining({
        statusCode: res.status,
        code: expect.any(String),
        message: expect.anything(),
      }),
    );
    expect(DOCUMENTED_CODES).toContain(res.body.code);
    const message: unknown = res.body.message;
    expect(
      typeof message === 'string' || (Array.isArray(message) && message.every((m) => typeof m === 'string')),
    ).toBe(true);
    expect(Object.keys(res.body)).not.toContain('polluted');
  }

  /**
   * Sends one fuzzed body to an endpoint and checks properties 1–3. `raw` may hold placeholders (P). With
   * `expectRefusal` the body must be refused whatever the model says (prototype pollution).
   */
  async function exercise(
    endpoint: Endpoint,
    raw: string | Uint8Array,
    options: { contentType?: string | null; expectRefusal?: boolean } = {},
  ): Promise<Answer> {
    const body = typeof raw === 'string' ? substitute(raw) : raw;
    const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
    const token = tokenFor(endpoint);
    const before = await snapshot();
    const checksBefore = endpoint.name === 'verify' ? await failedChecksOf(verifyToken) : undefined;

    const res = await post(endpoint.path, body, token, contentType);
    (seen[endpoint.name] ??= {})[res.status] = (seen[endpoint.name][res.status] ?? 0) + 1;
    try {
      await check(endpoint, body, contentType, options, res, before, checksBefore);
    } finally {
      // Also after a failed check, so that shrinking runs against usable fixtures.
      await refreshFixtures(endpoint, res);
    }
    return res;
  }

  async function check(
    endpoint: Endpoint,
    body: string | Uint8Array,
    contentType: string | null,
    options: { expectRefusal?: boolean },
    res: Answer,
    before: Snapshot,
    checksBefore: number | undefined,
  ): Promise<void> {
    const shown = typeof body === 'string' ? body : `bytes ${Buffer.from(body).toString('hex')}`;
    const what = `POST ${endpoint.path} [${contentType}] ${shown.length > 400 ? `${shown.slice(0, 400)}… (${shown.length} chars)` : shown}`;
    expectWellFormed(res, what);

    // Property 3: what the contract refuses is refused: 415 for another media type, 413 for an oversized
    // JSON body, 400 for a JSON body the contract refuses.
    const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
    const charset = /;\s*charset=([^;\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
    const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    if (media === 'application/x-www-form-urlencoded') {
      // Read for the Xoxzo delivery reports (Nest's default form parser): only properties 1 and 2 here.
    } else if (media !== 'application/json') {
      expectStatusIn(what, res.status, [413, 415]);
    } else if (bytes > BODY_LIMIT_BYTES) {
      expect({ what, status: res.status, code: res.body?.code }).toEqual({
        what,
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
      });
    } else if (charset === undefined || charset === 'utf-8') {
      const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
      const expected = options.expectRefusal ? 'refuse' : verdict(endpoint, text);
      if (expected === 'refuse') {
        expect({ what, status: res.status, code: res.body?.code }).toEqual({
          what,
          status: 400,
          code: 'VALIDATION_FAILED',
        });
      }
    }

    // Property 2: a refusal changes nothing but audit and limit bookkeeping.
    if (res.status >= 400) {
      const after = await snapshot();
      if (res.body?.code === 'PIN_INVALID') {
        expect(endpoint.name).toBe('verify');
        const { attempts: _a, failedChecks: beforeChecks, ...restBefore } = before;
        const { attempts: _b, failedChecks: afterChecks, ...restAfter } = after;
        expect({ what, ...restAfter }).toEqual({ what, ...restBefore });
        expect(afterChecks).toBe(beforeChecks + 1);
        expect(await failedChecksOf(verifyToken)).toBe((checksBefore ?? 0) + 1);
      } else {
        expect({ what, ...after }).toEqual({ what, ...before });
      }
      // Validation comes before any PIN check: a malformed body spends none of the attempt's budget.
      if (endpoint.name === 'verify' && res.status === 400) {
        expect({ what, failedChecks: await failedChecksOf(verifyToken) }).toEqual({
          what,
          failedChecks: checksBefore,
        });
      }
    }
  }

  /** Keeps the fixtures usable when a fuzzed body happened to be right (or used up an attempt). */
  async function refreshFixtures(endpoint: Endpoint, res: Answer) {
    if (endpoint.name === 'verify') {
      const left = res.body?.attemptsLeft as number | undefined;
      if (
        res.status === 200 ||
        res.body?.code === 'CHALLENGE_CLOSED' ||
        (res.body?.code === 'PIN_INVALID' && (left ?? 0) <= 1)
      ) {
        verifyToken = await loginPartial(verifyUser);
      }
    } else if (endpoint.name === 'refresh' && res.status === 200) {
      refreshToken = res.body.refreshToken as string;
    } else if (endpoint.name === 'logout' && res.status < 300) {
      logoutSession = await fullSession(logoutUser);
    }
  }

  return { app: () => t, seen, substitute, exercise };
}
