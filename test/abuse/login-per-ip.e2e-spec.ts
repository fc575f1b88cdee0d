import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { login, WRONG_PASSWORD } from '../support/auth-api.js';
import { rateLimited } from '../support/db.js';
import { expectError, expectTooMany } from '../support/expect-error.js';
import { closeApp, newIdentity, registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';
import { awayFromWindowEnd, QUARTER_HOUR } from '../support/windows.js';
import { failuresRow } from './login-support.js';

/**
 * Password attempts per client IP (LOGIN_LIMIT_PER_IP_15MIN), whatever login names they try. Limits are off
 * in the other e2e files (LIMITS_OFF); each describe here turns on only the rule it tests, so every test
 * fails if that rule is removed.
 */

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
