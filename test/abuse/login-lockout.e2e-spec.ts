import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { login, WRONG_PASSWORD } from '../support/auth-api.js';
import { sha256 } from '../support/db.js';
import { expectError, expectTooMany } from '../support/expect-error.js';
import {
  closeApp,
  HttpResult,
  newIdentity,
  registerAndVerify,
  startTestApp,
  TestApp,
} from '../support/test-app.js';
import { burst, failuresRow, observed, rewindLastAttempt, tally } from './login-support.js';

/**
 * Password attempts: LOGIN_LOCKOUT_THRESHOLD failures lock the login name for LOGIN_LOCKOUT_SECONDS. Limits
 * are off in the other e2e files (LIMITS_OFF); each describe here turns on only the rule it tests, so every
 * test fails if that rule is removed.
 */

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
