import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { claimsOf, login, WRONG_PASSWORD } from '../support/auth-api.js';
import { eventsOf, userIdByEmail, usersWithEmail } from '../support/db.js';
import { expectError, expectTooMany } from '../support/expect-error.js';
import {
  closeApp,
  HttpResult,
  newIdentity,
  registerAndVerify,
  startTestApp,
  TestApp,
} from '../support/test-app.js';
import { sleep } from '../support/windows.js';
import { boundedLogin, burst, failuresRow, observed, rewindLastAttempt, tally } from './login-support.js';

/**
 * Password attempts: after LOGIN_FREE_FAILURES failures for one login name, each further attempt must wait,
 * the delay doubling up to LOGIN_MAX_DELAY_SECONDS. Limits are off in the other e2e files (LIMITS_OFF); each
 * describe here turns on only the rule it tests, so every test fails if that rule is removed.
 */

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
    const ids = await Promise.all(users.map(({ identity }) => userIdByEmail(t, identity.email)));
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
        ? { status: 200, sub: claimsOf(r.body.accessToken).userId }
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
    const userId = await userIdByEmail(t, identity.email);
    const results = await burst(t, identity.email);
    expect(tally(results)).toEqual({ invalid: 2, tooMany: 8, noAnswer: 0, other: 0 });
    for (const r of results.filter((x) => x.status === 429)) expectTooMany(r);
    expect((await failuresRow(t, identity.email))?.failures).toBe(2);
    // Only two passwords were actually checked.
    expect(await eventsOf(t, userId, 'login_failed')).toBe(2);
    expectTooMany(await login(t, identity));
  });
});
