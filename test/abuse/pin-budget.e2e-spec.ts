import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { claimsOf, login, register, resend, verify, wrongPin } from '../support/auth-api.js';
import { rateLimited, sessionsOf } from '../support/db.js';
import { expectError, expectTooMany } from '../support/expect-error.js';
import { closeApp, newIdentity, registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';
import { awayFromWindowEnd, QUARTER_HOUR } from '../support/windows.js';

/**
 * The PIN check budget per account (PIN_CHECKS_PER_ACCOUNT_15MIN): it spans login attempts and resends,
 * unlike PIN_MAX_ATTEMPTS, which is per attempt. Limits are off in the other e2e files (LIMITS_OFF); each
 * describe here turns on only the rule it tests, so every test fails if that rule is removed.
 */

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
    const userId = claimsOf(registered.body.accessToken).userId;
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
      claimsOf(token).attemptId,
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
