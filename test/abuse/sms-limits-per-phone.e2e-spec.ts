import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { claimsOf, login, register, resend, verify } from '../support/auth-api.js';
import { attemptsOf, rateLimited, usersWithEmail } from '../support/db.js';
import { expectError, expectTooMany } from '../support/expect-error.js';
import { closeApp, newIdentity, registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';
import { awayFromWindowEnd, DAY, HOUR } from '../support/windows.js';

/**
 * SMS limits per phone number, per hour and per UTC day, and what a failed send costs. Limits are off in the
 * other e2e files (LIMITS_OFF); each describe here turns on only the rule it tests, so every test fails if
 * that rule is removed.
 */

describe('SMS limit per phone per hour (SMS_LIMIT_PER_PHONE_HOUR=3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_LIMIT_PER_PHONE_HOUR: '3', PIN_RESEND_SECONDS: '0' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it("counts a verified number's logins and resends: 3 SMS, then 429 with Retry-After and no 4th SMS", async () => {
    await awayFromWindowEnd(HOUR);
    const { identity: id } = await registerAndVerify(t);
    const first = await login(t, id);
    expect(first.status).toBe(200);
    const loggedIn = await login(t, id);
    expect(loggedIn.status).toBe(200);
    const resent = await resend(t, loggedIn.body.accessToken);
    expect(resent.status).toBe(200);
    // The registration's SMS went to a new number: it counts in that pool, not in the verified number's.
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(4);
    const userId = claimsOf(loggedIn.body.accessToken).userId;
    const pin = t.xoxzo.lastPinFor(id.phone);
    const attempts = await attemptsOf(t, userId);

    // The 4th SMS of the hour to the verified number: refused before anything is sent or stored.
    expectTooMany(await login(t, id), HOUR);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(4);
    expect(await attemptsOf(t, userId)).toBe(attempts);

    // A resend is refused the same way; the PIN already sent stays the valid one.
    expectTooMany(await resend(t, loggedIn.body.accessToken), HOUR);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(4);
    expect(await rateLimited(t, 'sms_per_phone_hour')).toBe(1); // one event per limit and window, however many requests it refuses
    expect((await verify(t, loggedIn.body.accessToken, pin)).status).toBe(200);
  });

  it("counts a new number's registration, login and resend in its own pool: 3 SMS, then 429", async () => {
    await awayFromWindowEnd(HOUR);
    const id = newIdentity();
    const registered = await register(t, id);
    expect(registered.status).toBe(201);
    const loggedIn = await login(t, id);
    expect(loggedIn.status).toBe(200);
    expect((await resend(t, loggedIn.body.accessToken)).status).toBe(200);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(3);
    expectTooMany(await login(t, id), HOUR);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(3);
    expect(await rateLimited(t, 'sms_new_number_per_phone_hour')).toBe(1);
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

  it('keeps the budget when the SMS may have gone out (a 5xx or a timeout after the request reached Xoxzo)', async () => {
    await awayFromWindowEnd(HOUR);
    const id = newIdentity();
    t.xoxzo.failAlways('http500');
    const registered = await register(t, id);
    expect(registered.status).toBe(201);
    expect(registered.body.challenge.delivery).toBe('unknown');
    t.xoxzo.failAlways('timeout');
    const loggedIn = await login(t, id);
    expect(loggedIn.status).toBe(200);
    expect(loggedIn.body.challenge.delivery).toBe('unknown');
    t.xoxzo.recover();
    // No SMS arrived, as far as the fake knows; but either may have: both stay counted.
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(0);
    expectTooMany(await login(t, id), HOUR);
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

describe('every provider attempt is charged (SMS_LIMIT_PER_PHONE_HOUR=4)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_LIMIT_PER_PHONE_HOUR: '4', SMS_DEADLINE_MS: '3000' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });
  afterEach(() => {
    t.xoxzo.recover();
  });

  /** What the hourly per-phone bucket of a new (not yet verified) number has counted for it. */
  async function charged(phone: string): Promise<number> {
    const { rows } = await t.db.query<{ n: number }>(
      `SELECT COALESCE(sum(hits), 0)::int AS n FROM rate_limit_counters WHERE key = $1`,
      [`sms-new:phone:${phone}`],
    );
    return rows[0].n;
  }

  it('429, 503 with Retry-After and a refused connection, then accepted: four attempts, four units, one SMS', async () => {
    await awayFromWindowEnd(HOUR);
    const id = newIdentity();
    t.xoxzo.failNext('http429', 1, { retryAfter: 0 });
    t.xoxzo.failNext('http503', 1, { retryAfter: 0 });
    t.refuseXoxzoConnections(1);
    const before = { requests: t.xoxzo.requests, refused: t.xoxzo.refused };
    const res = await register(t, id);
    expect(res.status).toBe(201);
    expect(t.xoxzo.requests - before.requests + t.xoxzo.refused - before.refused).toBe(4);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(1);
    expect(await charged(id.phone)).toBe(4);
    // The budget is spent: the next SMS is refused before anything is sent.
    const requests = t.xoxzo.requests;
    expectTooMany(await login(t, id), HOUR);
    expect(t.xoxzo.requests).toBe(requests);
  });

  it('a retry the budget cannot afford is not made: 503 SMS_UNAVAILABLE and every unit given back', async () => {
    await awayFromWindowEnd(HOUR);
    const id = newIdentity();
    expect((await register(t, id)).status).toBe(201);
    expect((await login(t, id)).status).toBe(200);
    expect(await charged(id.phone)).toBe(2);

    // Attempts 1 and 2 take units 3 and 4; the third attempt finds the budget spent and is not made.
    t.xoxzo.failAlways('http429', { retryAfter: 0 });
    const requests = t.xoxzo.requests;
    expectError(await login(t, id), 503, 'SMS_UNAVAILABLE');
    expect(t.xoxzo.requests).toBe(requests + 2);
    expect(await rateLimited(t, 'sms_new_number_per_phone_hour')).toBeGreaterThanOrEqual(1);
    // Nothing was sent: the units of both attempts are back.
    expect(await charged(id.phone)).toBe(2);

    t.xoxzo.recover();
    expect((await login(t, id)).status).toBe(200);
    expect(await charged(id.phone)).toBe(3);
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
    const { identity: id } = await registerAndVerify(t);
    expect((await login(t, id)).status).toBe(200);
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
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(4); // the registration's, then 3 logins

    expectTooMany(await login(t, id), DAY);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(4);
    expect(await rateLimited(t, 'sms_per_phone_day')).toBe(1);
  });
});
