import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
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

describe('password attempts per IP prefix (LOGIN_LIMIT_PER_IP_15MIN=2, TRUST_PROXY=127.0.0.1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { LOGIN_LIMIT_PER_IP_15MIN: '2', TRUST_PROXY: '127.0.0.1' } });
  });
  beforeEach(async () => {
    await t.db.query('DELETE FROM rate_limit_counters');
  });
  afterAll(async () => {
    await closeApp(t);
  });

  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const attempt = (ip: string) => login(t, newIdentity(), WRONG_PASSWORD, from(ip));

  it('counts rotating addresses of one IPv4 /24 together (5×): the 11th login is 429, another /24 is not', async () => {
    await awayFromWindowEnd(QUARTER_HOUR);
    for (let i = 1; i <= 10; i++) expectError(await attempt(`192.0.2.${i}`), 401, 'INVALID_CREDENTIALS');
    expectTooMany(await attempt('192.0.2.99'), QUARTER_HOUR);
    expect(await rateLimited(t, 'logins_per_ip_24')).toBe(1);
    expectError(await attempt('192.0.3.1'), 401, 'INVALID_CREDENTIALS');
  });

  it('counts rotating /64s of one IPv6 /56 together (5×), and of one /48 (20×)', async () => {
    await awayFromWindowEnd(QUARTER_HOUR);
    for (let i = 0; i < 10; i++)
      expectError(await attempt(`2001:db8:5:${i.toString(16)}::1`), 401, 'INVALID_CREDENTIALS');
    expectTooMany(await attempt('2001:db8:5:ff::1'), QUARTER_HOUR);
    expect(await rateLimited(t, 'logins_per_ip_56')).toBe(1);
    for (let block = 1; block <= 3; block++) {
      for (let i = 0; i < 10; i++) {
        const ip = `2001:db8:5:${(block * 256 + i).toString(16)}::1`;
        expectError(await attempt(ip), 401, 'INVALID_CREDENTIALS');
      }
    }
    expectTooMany(await attempt('2001:db8:5:4ff::1'), QUARTER_HOUR);
    expect(await rateLimited(t, 'logins_per_ip_48')).toBe(1);
  });
});
