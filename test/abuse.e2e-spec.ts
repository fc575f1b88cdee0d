import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HttpResult, newIdentity, registerAndVerify, startTestApp, TestApp } from './support/test-app.js';

/**
 * Abuse resistance: SMS limits, password delays and lockout, the PIN budget, allowed countries, TRUST_PROXY,
 * the audit trail and HTTP hardening. Limits are off in the other e2e files (LIMITS_OFF); each describe here
 * turns on only the rule it tests, so every test fails if that rule is removed.
 */

// The e2e project's `testTimeout` (jest.config.mjs) is not applied per project: set this file's own.
jest.setTimeout(30_000);

type Identity = ReturnType<typeof newIdentity>;
type Headers = Record<string, string>;

const MINUTE = 60;
const QUARTER_HOUR = 900;
const HOUR = 3600;
const DAY = 86400;
const WRONG_PASSWORD = 'not the right password at all';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** Seconds until the current clock-aligned window of this length ends (as the limit store computes it). */
function secondsLeftInWindow(windowSeconds: number, now = Date.now()): number {
  const windowMs = windowSeconds * 1000;
  return Math.ceil(((Math.floor(now / windowMs) + 1) * windowMs - now) / 1000);
}

/**
 * Limits count in fixed windows aligned to the clock (minute, quarter hour, hour, UTC day). A test that
 * fills a window must not straddle its end: if it is close, wait for the next window to begin.
 */
async function awayFromWindowEnd(windowSeconds: number, marginMs = 6000): Promise<void> {
  const windowMs = windowSeconds * 1000;
  const left = windowMs - (Date.now() % windowMs);
  if (left < marginMs) await sleep(left + 250);
}

function expectError(res: HttpResult, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.body.statusCode).toBe(status);
}

/**
 * 429 TOO_MANY_REQUESTS with a `Retry-After` header equal to the body's `retryAfter`; with `windowSeconds`,
 * Retry-After is the time left in the current window of that length.
 */
function expectTooMany(res: HttpResult, windowSeconds?: number): number {
  expectError(res, 429, 'TOO_MANY_REQUESTS');
  const header = res.headers.get('retry-after');
  expect(header).toMatch(/^[1-9][0-9]*$/);
  const retryAfter = Number(header);
  expect(res.body.retryAfter).toBe(retryAfter);
  expect(res.body.accessToken).toBeUndefined();
  if (windowSeconds !== undefined) {
    expect(Math.abs(retryAfter - secondsLeftInWindow(windowSeconds))).toBeLessThanOrEqual(2);
  }
  return retryAfter;
}

/** A test app's `close`, after cutting any connection the server still holds (e.g. a request it never answered). */
async function closeApp(t: TestApp | undefined): Promise<void> {
  if (!t) return;
  (t.app.getHttpServer() as { closeAllConnections(): void }).closeAllConnections();
  await t.close();
}

function subOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  return payload.sub as string;
}

function register(t: TestApp, identity: Identity, headers: Headers = {}): Promise<HttpResult> {
  return t.request('POST', '/auth/register', { body: identity, headers });
}

function login(
  t: TestApp,
  identity: { email: string; password: string },
  password = identity.password,
  headers: Headers = {},
): Promise<HttpResult> {
  return t.request('POST', '/auth/login', { body: { email: identity.email, password }, headers });
}

function verify(t: TestApp, token: string, pin: string, headers: Headers = {}): Promise<HttpResult> {
  return t.request('POST', '/auth/2fa/verify', { body: { pin }, token, headers });
}

function resend(t: TestApp, token: string): Promise<HttpResult> {
  return t.request('POST', '/auth/2fa/resend', { token });
}

/** A PIN of the same length that is not `pin`. */
function wrongPin(pin: string): string {
  return ((Number(pin) + 1) % 10 ** pin.length).toString().padStart(pin.length, '0');
}

async function count(t: TestApp, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return rows[0].n as number;
}

const usersWithEmail = (t: TestApp, email: string) => count(t, 'users WHERE email = $1', [email]);
const attemptsOf = (t: TestApp, userId: string) => count(t, 'login_attempts WHERE user_id = $1', [userId]);
const sessionsOf = (t: TestApp, userId: string) => count(t, 'sessions WHERE user_id = $1', [userId]);
const rateLimited = (t: TestApp, limit: string) =>
  count(t, `auth_events WHERE type = 'rate_limited' AND details->>'limit' = $1`, [limit]);
const eventsOf = (t: TestApp, userId: string, type: string) =>
  count(t, 'auth_events WHERE user_id = $1 AND type = $2', [userId, type]);

async function failuresRow(
  t: TestApp,
  email: string,
): Promise<{ failures: number; last_attempt_at: Date; locked_until: Date | null } | undefined> {
  const { rows } = await t.db.query(
    'SELECT failures, last_attempt_at, locked_until FROM login_failures WHERE email_hash = $1',
    [sha256(email)],
  );
  return rows[0] as { failures: number; last_attempt_at: Date; locked_until: Date | null } | undefined;
}

/** Plays time forward for the growing delay: the last counted attempt happened an hour ago. */
async function rewindLastAttempt(t: TestApp, email: string): Promise<void> {
  await t.db.query(
    `UPDATE login_failures SET last_attempt_at = last_attempt_at - interval '1 hour' WHERE email_hash = $1`,
    [sha256(email)],
  );
}

/**
 * A login that gives up after `ms`: a request the server never answers must fail the test, not hang it
 * (and must not keep the server from closing). Unanswered requests come back as status 0, code NO_ANSWER.
 */
async function boundedLogin(t: TestApp, email: string, password: string, ms = 5000): Promise<HttpResult> {
  try {
    const response = await fetch(`${t.url.replace('[::1]', '127.0.0.1')}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
      signal: AbortSignal.timeout(ms),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  } catch (error) {
    if ((error as Error).name !== 'TimeoutError') throw error;
    return { status: 0, body: { code: 'NO_ANSWER' }, headers: new Headers() };
  }
}

/** 10 wrong passwords for one login name at the same moment. */
const burst = (t: TestApp, email: string) =>
  Promise.all(Array.from({ length: 10 }, () => boundedLogin(t, email, WRONG_PASSWORD)));

function tally(results: HttpResult[]): { invalid: number; tooMany: number; noAnswer: number; other: number } {
  const invalid = results.filter((r) => r.status === 401 && r.body?.code === 'INVALID_CREDENTIALS').length;
  const tooMany = results.filter((r) => r.status === 429 && r.body?.code === 'TOO_MANY_REQUESTS').length;
  const noAnswer = results.filter((r) => r.status === 0).length;
  return { invalid, tooMany, noAnswer, other: results.length - invalid - tooMany - noAnswer };
}

/** status, code and retryAfter of a sequence of answers: what a caller can observe. */
const observed = (results: HttpResult[]) =>
  results.map((r) => ({
    status: r.status,
    code: r.body?.code as string | undefined,
    message: r.body?.message as unknown,
    retryAfter: r.headers.get('retry-after'),
  }));

describe('SMS limit per phone per hour (SMS_LIMIT_PER_PHONE_HOUR=3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_LIMIT_PER_PHONE_HOUR: '3', PIN_RESEND_SECONDS: '0' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('counts registration, login and resend: 3 SMS, then 429 with Retry-After and no 4th SMS', async () => {
    await awayFromWindowEnd(HOUR);
    const id = newIdentity();
    const registered = await register(t, id);
    expect(registered.status).toBe(201);
    const userId = subOf(registered.body.accessToken);
    const loggedIn = await login(t, id);
    expect(loggedIn.status).toBe(200);
    const resent = await resend(t, loggedIn.body.accessToken);
    expect(resent.status).toBe(200);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(3);
    const pin = t.xoxzo.lastPinFor(id.phone);
    const attempts = await attemptsOf(t, userId);

    // The 4th SMS of the hour: refused before anything is sent or stored.
    expectTooMany(await login(t, id), HOUR);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(3);
    expect(t.xoxzo.sent).toHaveLength(3);
    expect(await attemptsOf(t, userId)).toBe(attempts);

    // A resend is refused the same way; the PIN already sent stays the valid one.
    expectTooMany(await resend(t, loggedIn.body.accessToken), HOUR);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(3);
    expect(await rateLimited(t, 'sms_per_phone_hour')).toBe(1); // one event per limit and window, however many requests it refuses
    expect((await verify(t, loggedIn.body.accessToken, pin)).status).toBe(200);
  });

  it('is per number: accounts sharing an unverified number share its budget; other numbers are unaffected', async () => {
    await awayFromWindowEnd(HOUR);
    const a = newIdentity();
    const b = { ...newIdentity(), phone: a.phone };
    const c = { ...newIdentity(), phone: a.phone };
    expect((await register(t, a)).status).toBe(201);
    expect((await register(t, b)).status).toBe(201);
    expect((await login(t, a)).status).toBe(200);
    expect(t.xoxzo.messagesTo(a.phone)).toHaveLength(3);

    expectTooMany(await login(t, b), HOUR);
    // A registration over the limit leaves no account behind.
    expectTooMany(await register(t, c), HOUR);
    expect(await usersWithEmail(t, c.email)).toBe(0);
    expect(t.xoxzo.messagesTo(a.phone)).toHaveLength(3);

    const other = newIdentity();
    expect((await register(t, other)).status).toBe(201);
    expect(t.xoxzo.messagesTo(other.phone)).toHaveLength(1);
  });
});

describe('SMS limits and failed sends (SMS_LIMIT_PER_PHONE_HOUR=2)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_LIMIT_PER_PHONE_HOUR: '2', SMS_DEADLINE_MS: '600' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('gives the budget back when Xoxzo certainly did not send (403 out of credit): the retry is not 429', async () => {
    await awayFromWindowEnd(HOUR);
    const id = newIdentity();
    t.xoxzo.failAlways('http403');
    expectError(await register(t, id), 503, 'SMS_UNAVAILABLE');
    expectError(await register(t, id), 503, 'SMS_UNAVAILABLE');
    expectError(await register(t, id), 503, 'SMS_UNAVAILABLE');
    t.xoxzo.recover();
    expect((await register(t, id)).status).toBe(201);
    expect((await login(t, id)).status).toBe(200);
    // Two SMS really went out: the limit applies to them.
    expectTooMany(await login(t, id), HOUR);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(2);
  });

  it('keeps the budget when the SMS may have gone out (a 5xx or a timeout in any attempt)', async () => {
    await awayFromWindowEnd(HOUR);
    const id = newIdentity();
    t.xoxzo.failAlways('http500');
    expectError(await register(t, id), 503, 'SMS_UNAVAILABLE');
    expectError(await register(t, id), 503, 'SMS_UNAVAILABLE');
    t.xoxzo.recover();
    expectTooMany(await register(t, id), HOUR);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(0);
  });

  it('refuses a registration over the limit before hashing or storing anything', async () => {
    await awayFromWindowEnd(HOUR);
    const a = newIdentity();
    expect((await register(t, a)).status).toBe(201);
    expect((await login(t, a)).status).toBe(200);
    const rowsOf = async (): Promise<Record<string, number>> => {
      const { rows } = await t.db.query<Record<string, number>>(
        `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM login_attempts)::int AS attempts,
                (SELECT count(*) FROM auth_events WHERE type <> 'rate_limited')::int AS events`,
      );
      return rows[0];
    };
    const before = await rowsOf();
    const c = { ...newIdentity(), phone: a.phone };
    expectTooMany(await register(t, c), HOUR);
    expect(await rowsOf()).toEqual(before);
  });
});

describe('SMS limit per phone per day (SMS_LIMIT_PER_PHONE_DAY=3, per hour 2)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_LIMIT_PER_PHONE_HOUR: '2', SMS_LIMIT_PER_PHONE_DAY: '3' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('still refuses the 4th SMS of the day once the hourly window has moved on', async () => {
    await awayFromWindowEnd(HOUR); // every day boundary is an hour boundary too
    const id = newIdentity();
    expect((await register(t, id)).status).toBe(201);
    expect((await login(t, id)).status).toBe(200);
    expectTooMany(await login(t, id), HOUR);
    expect(await rateLimited(t, 'sms_per_phone_hour')).toBe(1);

    // An hour later: the hourly counter is in a past window, the daily one is not.
    await t.db.query(
      `UPDATE rate_limit_counters
          SET window_start = window_start - interval '1 hour', expires_at = expires_at - interval '1 hour'
        WHERE key LIKE 'sms:phone:%'`,
    );
    expect((await login(t, id)).status).toBe(200);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(3);

    expectTooMany(await login(t, id), DAY);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(3);
    expect(await rateLimited(t, 'sms_per_phone_day')).toBe(1);
  });
});

describe('SMS limit per account per hour (SMS_LIMIT_PER_ACCOUNT_HOUR=3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_LIMIT_PER_ACCOUNT_HOUR: '3', PIN_RESEND_SECONDS: '0' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('refuses the account its 4th SMS (login or resend), while another account on the same number gets one', async () => {
    await awayFromWindowEnd(HOUR);
    const a = newIdentity();
    expect((await register(t, a)).status).toBe(201);
    const loggedIn = await login(t, a);
    expect(loggedIn.status).toBe(200);
    expect((await resend(t, loggedIn.body.accessToken)).status).toBe(200);
    expect(t.xoxzo.messagesTo(a.phone)).toHaveLength(3);
    const userId = subOf(loggedIn.body.accessToken);
    const attempts = await attemptsOf(t, userId);

    expectTooMany(await login(t, a), HOUR);
    expectTooMany(await resend(t, loggedIn.body.accessToken), HOUR);
    expect(t.xoxzo.messagesTo(a.phone)).toHaveLength(3);
    expect(await attemptsOf(t, userId)).toBe(attempts);
    expect(await rateLimited(t, 'sms_per_account_hour')).toBe(1); // one event per limit and window, however many requests it refuses

    // The budget is the account's, not the number's.
    const b = { ...newIdentity(), phone: a.phone };
    expect((await register(t, b)).status).toBe(201);
    expect(t.xoxzo.messagesTo(a.phone)).toHaveLength(4);
  });
});

describe('SMS limit per IP per hour (SMS_LIMIT_PER_IP_HOUR=3), X-Forwarded-For not trusted', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_LIMIT_PER_IP_HOUR: '3' } });
  });
  beforeEach(async () => {
    await t.db.query('DELETE FROM rate_limit_counters');
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('counts registrations of different users from one IP: the 4th is 429, leaves no account, sends nothing', async () => {
    await awayFromWindowEnd(HOUR);
    const sent = t.xoxzo.sent.length;
    const ids = [newIdentity(), newIdentity(), newIdentity()];
    for (const id of ids) expect((await register(t, id)).status).toBe(201);
    expect(t.xoxzo.sent).toHaveLength(sent + 3);

    const fourth = newIdentity();
    expectTooMany(await register(t, fourth), HOUR);
    expect(await usersWithEmail(t, fourth.email)).toBe(0);
    // A login from the same IP is over the same budget.
    expectTooMany(await login(t, ids[0]), HOUR);
    expect(t.xoxzo.sent).toHaveLength(sent + 3);
    expect(await rateLimited(t, 'sms_per_ip_hour')).toBe(1); // one event per limit and window, however many requests it refuses
  });

  it('ignores X-Forwarded-For without TRUST_PROXY: the limit keys on 127.0.0.1, the audit trail too', async () => {
    await awayFromWindowEnd(HOUR);
    const sent = t.xoxzo.sent.length;
    const ids = [newIdentity(), newIdentity(), newIdentity()];
    for (const id of ids) {
      expect((await register(t, id, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(201);
    }
    const fourth = newIdentity();
    expectTooMany(await register(t, fourth, { 'x-forwarded-for': '198.51.100.7' }), HOUR);
    expect(await usersWithEmail(t, fourth.email)).toBe(0);
    expect(t.xoxzo.sent).toHaveLength(sent + 3);

    const { rows } = await t.db.query(
      `SELECT DISTINCT e.ip FROM auth_events e JOIN users u ON u.id = e.user_id WHERE u.email = ANY($1)`,
      [ids.map((id) => id.email)],
    );
    expect(rows).toEqual([{ ip: '127.0.0.1' }]);
  });
});

describe('global SMS limit per minute (SMS_LIMIT_GLOBAL_PER_MINUTE=3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_LIMIT_GLOBAL_PER_MINUTE: '3' } });
  });
  beforeEach(async () => {
    await t.db.query('DELETE FROM rate_limit_counters');
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('refuses the 4th SMS of the minute, whoever and whatever number it is for', async () => {
    await awayFromWindowEnd(MINUTE, 5000);
    const ids = [newIdentity(), newIdentity(), newIdentity()];
    for (const id of ids) expect((await register(t, id)).status).toBe(201);
    expect(t.xoxzo.sent).toHaveLength(3);

    const fourth = newIdentity();
    const retryAfter = expectTooMany(await register(t, fourth), MINUTE);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await usersWithEmail(t, fourth.email)).toBe(0);
    expectTooMany(await login(t, ids[1]), MINUTE);
    expect(t.xoxzo.sent).toHaveLength(3);
    expect(await rateLimited(t, 'sms_global_minute')).toBe(1); // one event per limit and window, however many requests it refuses
  });
});

describe('limits shared by two app instances on one database', () => {
  const env = {
    SMS_LIMIT_PER_PHONE_HOUR: '3',
    LOGIN_LOCKOUT_THRESHOLD: '3',
    LOGIN_LOCKOUT_SECONDS: '600',
  };
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp({ env });
    b = await startTestApp({ env, databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await closeApp(b);
    await closeApp(a);
  });

  it('trips the per-phone SMS limit at the configured total, not per instance', async () => {
    await awayFromWindowEnd(HOUR);
    const id = newIdentity();
    expect((await register(a, id)).status).toBe(201);
    expect((await login(b, id)).status).toBe(200);
    expect((await login(a, id)).status).toBe(200);
    expect(a.xoxzo.messagesTo(id.phone).length + b.xoxzo.messagesTo(id.phone).length).toBe(3);

    expectTooMany(await login(b, id), HOUR);
    expectTooMany(await login(a, id), HOUR);
    expect(a.xoxzo.messagesTo(id.phone)).toHaveLength(2);
    expect(b.xoxzo.messagesTo(id.phone)).toHaveLength(1);
  });

  it('locks an account after 3 failures spread over both instances', async () => {
    const { identity } = await registerAndVerify(a);
    const sent = a.xoxzo.sent.length + b.xoxzo.sent.length;
    for (const t of [a, b, a])
      expectError(await login(t, identity, WRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');
    expectTooMany(await login(b, identity));
    expectTooMany(await login(a, identity));
    expect(a.xoxzo.sent.length + b.xoxzo.sent.length).toBe(sent);
  });
});

describe('password attempts: growing delays (LOGIN_FREE_FAILURES=2, LOGIN_MAX_DELAY_SECONDS=4)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { LOGIN_FREE_FAILURES: '2', LOGIN_MAX_DELAY_SECONDS: '4' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('makes the attempt after the free failures wait, even with the right password; then lets it in and resets', async () => {
    const { identity } = await registerAndVerify(t);
    const sent = t.xoxzo.sent.length;
    expectError(await login(t, identity, WRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');
    expectError(await login(t, identity, WRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');

    expect(expectTooMany(await login(t, identity))).toBe(1);
    expect(t.xoxzo.sent).toHaveLength(sent);
    // The refused attempt was not counted.
    expect((await failuresRow(t, identity.email))?.failures).toBe(2);

    await sleep(1100);
    const ok = await login(t, identity);
    expect(ok.status).toBe(200);
    expect(t.xoxzo.sent).toHaveLength(sent + 1);
    expect(await failuresRow(t, identity.email)).toBeUndefined();

    // The count started again: two more free failures.
    expectError(await login(t, identity, WRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');
    expectError(await login(t, identity, WRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');
    expectTooMany(await login(t, identity, WRONG_PASSWORD));
  });

  it('doubles the delay per further failure up to LOGIN_MAX_DELAY_SECONDS: 1, 2, 4, 4', async () => {
    const { identity } = await registerAndVerify(t);
    expectError(await login(t, identity, WRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');
    expectError(await login(t, identity, WRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');
    const delays: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      delays.push(expectTooMany(await login(t, identity)));
      await rewindLastAttempt(t, identity.email);
      expectError(await login(t, identity, WRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');
    }
    expect(delays).toEqual([1, 2, 4, 4]);
    expect((await failuresRow(t, identity.email))?.failures).toBe(6);

    await rewindLastAttempt(t, identity.email);
    expect((await login(t, identity)).status).toBe(200);
    expect(await failuresRow(t, identity.email)).toBeUndefined();
  });

  it('answers an unknown email exactly like a known one with a wrong password', async () => {
    const { identity } = await registerAndVerify(t);
    const unknown = newIdentity();
    const known: HttpResult[] = [];
    const stranger: HttpResult[] = [];
    for (let i = 0; i < 3; i += 1) {
      known.push(await login(t, identity, WRONG_PASSWORD));
      stranger.push(await login(t, unknown, WRONG_PASSWORD));
    }
    expect(observed(known).map((r) => [r.status, r.code])).toEqual([
      [401, 'INVALID_CREDENTIALS'],
      [401, 'INVALID_CREDENTIALS'],
      [429, 'TOO_MANY_REQUESTS'],
    ]);
    expect(observed(stranger)).toEqual(observed(known));
    expect(stranger.map((r) => r.body as unknown)).toEqual(known.map((r) => r.body as unknown));
    expect((await failuresRow(t, unknown.email))?.failures).toBe(2);
    expect(await usersWithEmail(t, unknown.email)).toBe(0);
  });

  it('answers simultaneous logins of different people each with their own result', async () => {
    const users = await Promise.all([registerAndVerify(t), registerAndVerify(t), registerAndVerify(t)]);
    const ids = await Promise.all(
      users.map(async ({ identity }) => {
        const { rows } = await t.db.query('SELECT id FROM users WHERE email = $1', [identity.email]);
        return rows[0].id as string;
      }),
    );
    const strangers = [newIdentity(), newIdentity(), newIdentity()];
    // Interleaved: a right password, then someone else's wrong one, and so on, all at once.
    const results = await Promise.all(
      users.flatMap(({ identity }, i) => [
        boundedLogin(t, identity.email, identity.password),
        boundedLogin(t, strangers[i].email, WRONG_PASSWORD),
      ]),
    );
    const outcome = results.map((r) =>
      r.status === 200
        ? { status: 200, sub: subOf(r.body.accessToken) }
        : { status: r.status, code: r.body?.code },
    );
    expect(outcome).toEqual(
      ids.flatMap((id) => [
        { status: 200, sub: id },
        { status: 401, code: 'INVALID_CREDENTIALS' },
      ]),
    );
  });

  it('lets only the free failures through a parallel burst of 10 wrong passwords', async () => {
    const { identity } = await registerAndVerify(t);
    const userId = (await t.db.query('SELECT id FROM users WHERE email = $1', [identity.email])).rows[0]
      .id as string;
    const results = await burst(t, identity.email);
    expect(tally(results)).toEqual({ invalid: 2, tooMany: 8, noAnswer: 0, other: 0 });
    for (const r of results.filter((x) => x.status === 429)) expectTooMany(r);
    expect((await failuresRow(t, identity.email))?.failures).toBe(2);
    // Only two passwords were actually checked.
    expect(await eventsOf(t, userId, 'login_failed')).toBe(2);
    expectTooMany(await login(t, identity));
  });
});

describe('password attempts: lockout (LOGIN_LOCKOUT_THRESHOLD=3, LOGIN_LOCKOUT_SECONDS=600)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        LOGIN_FREE_FAILURES: '100',
        LOGIN_MAX_DELAY_SECONDS: '86400',
        LOGIN_LOCKOUT_THRESHOLD: '3',
        LOGIN_LOCKOUT_SECONDS: '600',
      },
    });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('locks the account for LOGIN_LOCKOUT_SECONDS after 3 failures, even for the right password', async () => {
    const { identity } = await registerAndVerify(t);
    const sent = t.xoxzo.sent.length;
    for (let i = 0; i < 3; i += 1) {
      expectError(await login(t, identity, WRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');
    }
    const row = await failuresRow(t, identity.email);
    expect(row?.failures).toBe(3);
    expect(row?.locked_until).not.toBeNull();
    const lockedFor = (row!.locked_until!.getTime() - Date.now()) / 1000;
    expect(lockedFor).toBeGreaterThan(590);
    expect(lockedFor).toBeLessThanOrEqual(600);

    const retryAfter = expectTooMany(await login(t, identity));
    expect(retryAfter).toBeGreaterThan(590);
    expect(retryAfter).toBeLessThanOrEqual(600);
    // A lock, not a delay: an old last attempt does not open it.
    await rewindLastAttempt(t, identity.email);
    expectTooMany(await login(t, identity));
    expect(t.xoxzo.sent).toHaveLength(sent);

    await t.db.query(
      `UPDATE login_failures SET locked_until = now() - interval '1 second' WHERE email_hash = $1`,
      [sha256(identity.email)],
    );
    expect((await login(t, identity)).status).toBe(200);
    expect(t.xoxzo.sent).toHaveLength(sent + 1);
    expect(await failuresRow(t, identity.email)).toBeUndefined();
  });

  it('locks an unknown email in exactly the same way as a known one', async () => {
    const { identity } = await registerAndVerify(t);
    const unknown = newIdentity();
    const known: HttpResult[] = [];
    const stranger: HttpResult[] = [];
    for (let i = 0; i < 5; i += 1) {
      known.push(await login(t, identity, WRONG_PASSWORD));
      stranger.push(await login(t, unknown, WRONG_PASSWORD));
    }
    const shape = (results: HttpResult[]) =>
      observed(results).map(({ status, code, message }) => ({ status, code, message }));
    expect(shape(known).map((r) => [r.status, r.code])).toEqual([
      [401, 'INVALID_CREDENTIALS'],
      [401, 'INVALID_CREDENTIALS'],
      [401, 'INVALID_CREDENTIALS'],
      [429, 'TOO_MANY_REQUESTS'],
      [429, 'TOO_MANY_REQUESTS'],
    ]);
    expect(shape(stranger)).toEqual(shape(known));
    for (const r of [...known, ...stranger].filter((x) => x.status === 429)) {
      expect(expectTooMany(r)).toBeGreaterThan(590);
    }
    expect((await failuresRow(t, unknown.email))?.locked_until).not.toBeNull();
  });

  it('lets exactly 3 of a parallel burst of 10 wrong passwords be checked', async () => {
    const { identity } = await registerAndVerify(t);
    const results = await burst(t, identity.email);
    expect(tally(results)).toEqual({ invalid: 3, tooMany: 7, noAnswer: 0, other: 0 });
    expect((await failuresRow(t, identity.email))?.failures).toBe(3);
    expectTooMany(await login(t, identity));
  });
});

describe('password attempts per IP (LOGIN_LIMIT_PER_IP_15MIN=3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { LOGIN_LIMIT_PER_IP_15MIN: '3' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('refuses the 4th login from an IP, right password or not, before checking anything', async () => {
    await awayFromWindowEnd(QUARTER_HOUR);
    const { identity } = await registerAndVerify(t);
    const sent = t.xoxzo.sent.length;
    expectError(await login(t, identity, WRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');
    expectError(await login(t, newIdentity(), WRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');
    expect((await login(t, identity)).status).toBe(200);
    expect(t.xoxzo.sent).toHaveLength(sent + 1);

    expectTooMany(await login(t, identity), QUARTER_HOUR);
    const stranger = newIdentity();
    expectTooMany(await login(t, stranger, WRONG_PASSWORD), QUARTER_HOUR);
    expect(t.xoxzo.sent).toHaveLength(sent + 1);
    // Refused before the attempt was counted against the login name.
    expect(await failuresRow(t, stranger.email)).toBeUndefined();
    expect(await rateLimited(t, 'logins_per_ip')).toBe(1); // one event per limit and window, however many requests it refuses
  });
});

describe('PIN check budget per account (PIN_CHECKS_PER_ACCOUNT_15MIN=4, PIN_MAX_ATTEMPTS=3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { PIN_CHECKS_PER_ACCOUNT_15MIN: '4', PIN_MAX_ATTEMPTS: '3', PIN_RESEND_SECONDS: '0' },
    });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('spans attempts and resends: 3 wrong, a new login, 1 wrong, then even the right PIN is 429', async () => {
    await awayFromWindowEnd(QUARTER_HOUR);
    const id = newIdentity();
    const registered = await register(t, id);
    expect(registered.status).toBe(201);
    const userId = subOf(registered.body.accessToken);
    const firstPin = t.xoxzo.lastPinFor(id.phone);
    for (const attemptsLeft of [2, 1, 0]) {
      const res = await verify(t, registered.body.accessToken, wrongPin(firstPin));
      expectError(res, 401, 'PIN_INVALID');
      expect(res.body.attemptsLeft).toBe(attemptsLeft);
    }

    const loggedIn = await login(t, id);
    expect(loggedIn.status).toBe(200);
    const token = loggedIn.body.accessToken as string;
    const pin = t.xoxzo.lastPinFor(id.phone);
    expectError(await verify(t, token, wrongPin(pin)), 401, 'PIN_INVALID');

    expectTooMany(await verify(t, token, pin), QUARTER_HOUR);
    // A resend sends a new PIN but does not refill the budget.
    expect((await resend(t, token)).status).toBe(200);
    expectTooMany(await verify(t, token, t.xoxzo.lastPinFor(id.phone)), QUARTER_HOUR);

    const { rows } = await t.db.query('SELECT status, failed_checks FROM login_attempts WHERE id = $1', [
      JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).jti,
    ]);
    expect(rows).toEqual([{ status: 'pending', failed_checks: 1 }]);
    expect(await sessionsOf(t, userId)).toBe(0);
    const user = await t.db.query('SELECT phone_verified_at FROM users WHERE id = $1', [userId]);
    expect(user.rows[0].phone_verified_at).toBeNull();
    expect(await rateLimited(t, 'pin_checks_per_account')).toBe(1); // one event per limit and window, however many requests it refuses

    // The budget is per account: another user verifies normally.
    await expect(registerAndVerify(t)).resolves.toBeDefined();
  });
});

describe('SMS_ALLOWED_COUNTRIES=JP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_ALLOWED_COUNTRIES: 'JP' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('refuses a US number at registration (400, no SMS, no account) and accepts a JP one', async () => {
    const us = { ...newIdentity(), phone: '+14155552671' };
    const res = await register(t, us);
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(res.body.message)).toMatch(/phone/);
    expect(t.xoxzo.sent).toHaveLength(0);
    expect(await usersWithEmail(t, us.email)).toBe(0);

    const jp = newIdentity();
    expect((await register(t, jp)).status).toBe(201);
    expect(t.xoxzo.sent).toHaveLength(1);
    expect(t.xoxzo.messagesTo(jp.phone)).toHaveLength(1);
  });

  it('sends no PIN at login to a number outside a list narrowed after it registered', async () => {
    // Registered through an instance without the list, on the same database.
    const open = await startTestApp({ databaseUrl: t.databaseUrl });
    const us = { ...newIdentity(), phone: '+14155552672' };
    try {
      expect((await register(open, us)).status).toBe(201);
    } finally {
      await closeApp(open);
    }
    const before = t.xoxzo.sent.length;
    const res = await login(t, us);
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(res.body.message)).toMatch(/phone/);
    expect(t.xoxzo.sent).toHaveLength(before);
  });
});

describe('TRUST_PROXY=127.0.0.1 (SMS_LIMIT_PER_IP_HOUR=2)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1', SMS_LIMIT_PER_IP_HOUR: '2' } });
  });
  beforeEach(async () => {
    await t.db.query('DELETE FROM rate_limit_counters');
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('gives each forwarded client address its own per-IP budget', async () => {
    await awayFromWindowEnd(HOUR);
    const xff = (ip: string) => ({ 'x-forwarded-for': ip });
    expect((await register(t, newIdentity(), xff('203.0.113.9'))).status).toBe(201);
    expect((await register(t, newIdentity(), xff('203.0.113.9'))).status).toBe(201);
    const refused = newIdentity();
    expectTooMany(await register(t, refused, xff('203.0.113.9')), HOUR);
    expect(await usersWithEmail(t, refused.email)).toBe(0);

    expect((await register(t, newIdentity(), xff('203.0.113.10'))).status).toBe(201);
    expect((await register(t, newIdentity())).status).toBe(201); // the proxy itself, 127.0.0.1
    expect(t.xoxzo.sent).toHaveLength(4);
    const { rows } = await t.db.query(
      `SELECT ip FROM auth_events WHERE type = 'rate_limited' AND details->>'limit' = 'sms_per_ip_hour'`,
    );
    expect(rows).toEqual([{ ip: '203.0.113.9' }]);
  });

  it('counts a whole IPv6 /64 as one client: rotating addresses inside it does not escape the limit', async () => {
    await awayFromWindowEnd(HOUR);
    const xff = (ip: string) => ({ 'x-forwarded-for': ip });
    expect((await register(t, newIdentity(), xff('2001:db8:1:2::1'))).status).toBe(201);
    expect((await register(t, newIdentity(), xff('2001:db8:1:2:aaaa::2'))).status).toBe(201);
    expectTooMany(await register(t, newIdentity(), xff('2001:db8:1:2:ffff:ffff:ffff:3')), HOUR);
    expect((await register(t, newIdentity(), xff('2001:db8:1:3::1'))).status).toBe(201); // another /64
  });

  it('records the forwarded address in the audit trail, taking the hop the trusted proxy saw', async () => {
    const id = newIdentity();
    const headers = { 'x-forwarded-for': '198.51.100.23, 203.0.113.77', 'user-agent': 'abuse-e2e-proxy' };
    const registered = await register(t, id, headers);
    expect(registered.status).toBe(201);
    const verified = await verify(t, registered.body.accessToken, t.xoxzo.lastPinFor(id.phone), headers);
    expect(verified.status).toBe(200);
    const res = await t.get('/users/me/events', verified.body.accessToken);
    expect(res.status).toBe(200);
    expect((res.body.events as { type: string }[]).map((e) => e.type)).toEqual([
      'pin_verified',
      'registered',
      'pin_sent',
    ]);
    for (const event of res.body.events) {
      expect(event).toMatchObject({ ip: '203.0.113.77', userAgent: 'abuse-e2e-proxy' });
    }
  });
});

describe('audit trail (GET /users/me/events)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { REFRESH_REUSE_GRACE_SECONDS: '0' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  const events = (token: string, query = '') => t.get(`/users/me/events${query}`, token);

  it('lists the caller’s events newest first, with ip, user agent and time, and no secret anywhere', async () => {
    const ua = { 'user-agent': 'abuse-e2e-agent/1.0' };
    const id = newIdentity();
    const secrets: string[] = [id.password, WRONG_PASSWORD];
    const pins: string[] = [];
    const started = Date.now();

    const registered = await register(t, id, ua);
    expect(registered.status).toBe(201);
    pins.push(t.xoxzo.lastPinFor(id.phone));
    const wrong = wrongPin(pins[0]);
    pins.push(wrong);
    expectError(await verify(t, registered.body.accessToken, wrong, ua), 401, 'PIN_INVALID');
    const first = await verify(t, registered.body.accessToken, pins[0], ua);
    expect(first.status).toBe(200);

    expectError(await login(t, id, WRONG_PASSWORD, ua), 401, 'INVALID_CREDENTIALS');
    const second = await login(t, id, id.password, ua);
    expect(second.status).toBe(200);
    pins.push(t.xoxzo.lastPinFor(id.phone));
    const session2 = await verify(t, second.body.accessToken, pins[2], ua);
    expect(session2.status).toBe(200);

    // Reuse of a spent refresh token revokes session 1.
    const rotated = await t.request('POST', '/auth/refresh', {
      body: { refreshToken: first.body.refreshToken },
      headers: ua,
    });
    expect(rotated.status).toBe(200);
    const reused = await t.request('POST', '/auth/refresh', {
      body: { refreshToken: first.body.refreshToken },
      headers: ua,
    });
    expectError(reused, 401, 'REFRESH_INVALID');
    const logout = await t.request('POST', '/auth/logout', {
      body: {},
      token: session2.body.accessToken,
      headers: ua,
    });
    expect(logout.status).toBe(204);

    const third = await login(t, id, id.password, ua);
    expect(third.status).toBe(200);
    pins.push(t.xoxzo.lastPinFor(id.phone));
    const session3 = await verify(t, third.body.accessToken, pins[3], ua);
    expect(session3.status).toBe(200);
    secrets.push(
      registered.body.accessToken,
      second.body.accessToken,
      third.body.accessToken,
      ...[first, session2, rotated, session3].flatMap((s) => [
        s.body.accessToken as string,
        s.body.refreshToken as string,
      ]),
    );

    const res = await events(session3.body.accessToken);
    expect(res.status).toBe(200);
    const list = res.body.events as { type: string; at: string; ip: string; userAgent: string | null }[];
    expect(list.map((e) => e.type)).toEqual([
      'pin_verified',
      'pin_sent',
      'login_succeeded',
      'logout',
      'refresh_reused',
      'pin_verified',
      'pin_sent',
      'login_succeeded',
      'login_failed',
      'pin_verified',
      'pin_rejected',
      'registered',
      'pin_sent',
    ]);
    for (const event of list) {
      expect(event).toMatchObject({ ip: '127.0.0.1', userAgent: 'abuse-e2e-agent/1.0' });
      expect(event.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(Date.parse(event.at)).toBeGreaterThanOrEqual(started - 2000);
      expect(Date.parse(event.at)).toBeLessThanOrEqual(Date.now() + 2000);
    }
    const times = list.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((x, y) => y - x));

    // No PIN, password or token in the answer, nor anywhere in the table.
    const table = JSON.stringify((await t.db.query('SELECT * FROM auth_events')).rows);
    for (const text of [JSON.stringify(res.body), table]) {
      for (const secret of secrets) expect(text.includes(secret)).toBe(false);
      for (const pin of pins) expect(text).not.toMatch(new RegExp(`(?<![0-9A-Za-z])${pin}(?![0-9A-Za-z])`));
    }

    // ?limit=2: the two newest.
    const two = await events(session3.body.accessToken, '?limit=2');
    expect(two.status).toBe(200);
    expect(two.body.events).toEqual(list.slice(0, 2));
  });

  it('refuses a partial token with 401 SECOND_FACTOR_REQUIRED', async () => {
    const id = newIdentity();
    const registered = await register(t, id);
    expect(registered.status).toBe(201);
    const res = await events(registered.body.accessToken);
    expectError(res, 401, 'SECOND_FACTOR_REQUIRED');
    expect(res.body.events).toBeUndefined();
  });

  it('shows only the caller’s own events', async () => {
    const a = newIdentity();
    const b = newIdentity();
    const ra = await register(t, a, { 'user-agent': 'agent-of-a' });
    const rb = await register(t, b, { 'user-agent': 'agent-of-b' });
    const va = await verify(t, ra.body.accessToken, t.xoxzo.lastPinFor(a.phone), {
      'user-agent': 'agent-of-a',
    });
    const vb = await verify(t, rb.body.accessToken, t.xoxzo.lastPinFor(b.phone), {
      'user-agent': 'agent-of-b',
    });
    expect([va.status, vb.status]).toEqual([200, 200]);
    // Someone fails to log in as a: only a sees it.
    expectError(
      await login(t, a, WRONG_PASSWORD, { 'user-agent': 'agent-of-b' }),
      401,
      'INVALID_CREDENTIALS',
    );

    const listA = (await events(va.body.accessToken)).body.events as { userAgent: string }[];
    const listB = (await events(vb.body.accessToken)).body.events as { userAgent: string }[];
    expect(listB.map((e) => e.userAgent)).toEqual(['agent-of-b', 'agent-of-b', 'agent-of-b']);
    expect(listA).toHaveLength(4);
    expect(listA[0]).toMatchObject({ type: 'login_failed', userAgent: 'agent-of-b' });
    expect(listA.slice(1).map((e) => e.userAgent)).toEqual(['agent-of-a', 'agent-of-a', 'agent-of-a']);
    expect(await count(t, 'auth_events WHERE user_id = $1', [subOf(vb.body.accessToken)])).toBe(listB.length);
  });
});

describe('HTTP hardening (CORS_ORIGINS=https://app.example.com)', () => {
  const ORIGIN = 'https://app.example.com';
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { CORS_ORIGINS: ORIGIN } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('sets helmet headers on successful and error responses', async () => {
    for (const res of [await t.get('/health'), await t.get('/users/me'), await t.get('/no-such-route')]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('answers a CORS preflight only for the configured origin', async () => {
    const preflight = (origin: string) =>
      t.request('OPTIONS', '/auth/login', {
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const allowed = await preflight(ORIGIN);
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();

    const other = await preflight('https://evil.example.net');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    const simple = await t.request('GET', '/health', { headers: { origin: ORIGIN } });
    expect(simple.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(simple.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('retry-after');
    const foreign = await t.request('GET', '/health', { headers: { origin: 'https://evil.example.net' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a body over 16 KiB with 413 PAYLOAD_TOO_LARGE before any login is counted', async () => {
    const email = newIdentity().email;
    /** A login body of exactly `size` bytes (the padding field makes it invalid, never a real attempt). */
    const body = (size: number) => {
      const base = JSON.stringify({ email, password: WRONG_PASSWORD, pad: '' });
      return base.replace('"pad":""', `"pad":"${'x'.repeat(size - base.length)}"`);
    };
    const headers = { 'content-type': 'application/json' };
    expect(Buffer.byteLength(body(16 * 1024 + 1))).toBe(16 * 1024 + 1);

    const tooLarge = await t.request('POST', '/auth/login', { raw: body(16 * 1024 + 1), headers });
    expectError(tooLarge, 413, 'PAYLOAD_TOO_LARGE');
    const atLimit = await t.request('POST', '/auth/login', { raw: body(16 * 1024), headers });
    expectError(atLimit, 400, 'VALIDATION_FAILED');
    expect(await failuresRow(t, email)).toBeUndefined();
    expect(await count(t, 'auth_events')).toBe(0);
  });
});
