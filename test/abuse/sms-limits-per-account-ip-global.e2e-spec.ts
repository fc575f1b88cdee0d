import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { claimsOf, login, register, resend } from '../support/auth-api.js';
import { attemptsOf, rateLimited, usersWithEmail } from '../support/db.js';
import { expectTooMany } from '../support/expect-error.js';
import { closeApp, newIdentity, registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';
import { awayFromWindowEnd, HOUR, MINUTE } from '../support/windows.js';

/**
 * SMS limits per account, per client IP (X-Forwarded-For not trusted) and for the whole service per minute.
 * Limits are off in the other e2e files (LIMITS_OFF); each describe here turns on only the rule it tests, so
 * every test fails if that rule is removed.
 */

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
    const userId = claimsOf(loggedIn.body.accessToken).userId;
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
    // A login to one of these still-unverified numbers from the same IP is over the same budget.
    expectTooMany(await login(t, ids[0]), HOUR);
    expect(t.xoxzo.sent).toHaveLength(sent + 3);
    expect(await rateLimited(t, 'sms_new_number_per_ip_hour')).toBe(1); // one event per limit and window, however many requests it refuses
  });

  it('counts logins of verified numbers from one IP in their own budget, which registrations cannot spend', async () => {
    await awayFromWindowEnd(HOUR);
    const verified = await registerAndVerify(t);
    await t.db.query('DELETE FROM rate_limit_counters');
    // Registrations from this IP fill the new-number budget…
    for (let i = 0; i < 3; i++) expect((await register(t, newIdentity())).status).toBe(201);
    expectTooMany(await register(t, newIdentity()), HOUR);
    // …but a verified user logging in from the same IP is not refused: 3 logins, then the 4th is 429.
    for (let i = 0; i < 3; i++) expect((await login(t, verified.identity)).status).toBe(200);
    expectTooMany(await login(t, verified.identity), HOUR);
    expect(await rateLimited(t, 'sms_per_ip_hour')).toBe(1);
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

  it('refuses the 4th SMS of the minute to verified numbers, whoever and whatever number it is for', async () => {
    const users = [await registerAndVerify(t), await registerAndVerify(t), await registerAndVerify(t)];
    await t.db.query('DELETE FROM rate_limit_counters');
    await awayFromWindowEnd(MINUTE, 5000);
    const sent = t.xoxzo.sent.length;
    for (const user of users) expect((await login(t, user.identity)).status).toBe(200);
    expect(t.xoxzo.sent).toHaveLength(sent + 3);

    const retryAfter = expectTooMany(await login(t, users[1].identity), MINUTE);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(t.xoxzo.sent).toHaveLength(sent + 3);
    expect(await rateLimited(t, 'sms_global_minute')).toBe(1); // one event per limit and window, however many requests it refuses
  });

  it('does not count registrations: they draw from REGISTRATION_SMS_LIMIT_GLOBAL_PER_MINUTE', async () => {
    await awayFromWindowEnd(MINUTE, 5000);
    const refusals = await rateLimited(t, 'sms_global_minute');
    for (let i = 0; i < 5; i++) expect((await register(t, newIdentity())).status).toBe(201);
    expect(await rateLimited(t, 'sms_global_minute')).toBe(refusals);
  });
});

describe('global SMS limit for new numbers (REGISTRATION_SMS_LIMIT_GLOBAL_PER_MINUTE=3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { REGISTRATION_SMS_LIMIT_GLOBAL_PER_MINUTE: '3', SMS_LIMIT_GLOBAL_PER_MINUTE: '3' },
    });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('refuses the 4th registration SMS of the minute, and verified users still log in', async () => {
    const user = await registerAndVerify(t);
    await t.db.query('DELETE FROM rate_limit_counters');
    await awayFromWindowEnd(MINUTE, 5000);
    for (let i = 0; i < 3; i++) expect((await register(t, newIdentity())).status).toBe(201);
    const fourth = newIdentity();
    expectTooMany(await register(t, fourth), MINUTE);
    expect(await usersWithEmail(t, fourth.email)).toBe(0);
    expect(await rateLimited(t, 'sms_new_number_global_minute')).toBe(1);
    // Registration traffic, hostile or not, cannot stop a verified user from logging in.
    expect((await login(t, user.identity)).status).toBe(200);
  });
});

describe('SMS limit per IP prefix (SMS_LIMIT_PER_IP_HOUR=2, TRUST_PROXY=127.0.0.1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_LIMIT_PER_IP_HOUR: '2', TRUST_PROXY: '127.0.0.1' } });
  });
  beforeEach(async () => {
    await t.db.query('DELETE FROM rate_limit_counters');
  });
  afterAll(async () => {
    await closeApp(t);
  });

  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it('counts registrations from rotating addresses of one /24 together (5×): the 11th is 429, no account', async () => {
    await awayFromWindowEnd(HOUR);
    for (let i = 1; i <= 10; i++)
      expect((await register(t, newIdentity(), from(`192.0.2.${i}`))).status).toBe(201);
    const refused = newIdentity();
    expectTooMany(await register(t, refused, from('192.0.2.99')), HOUR);
    expect(await usersWithEmail(t, refused.email)).toBe(0);
    expect(await rateLimited(t, 'sms_new_number_per_ip_hour_24')).toBe(1);
    expect((await register(t, newIdentity(), from('192.0.3.1'))).status).toBe(201);
  });

  it('counts logins of verified numbers from rotating /64s of one IPv6 /56 together (5×)', async () => {
    const users = [];
    for (let i = 0; i < 11; i++) {
      const identity = newIdentity();
      const registered = await register(t, identity, from(`198.51.${i}.1`)); // each from its own /24
      expect(registered.status).toBe(201);
      const pin = t.xoxzo.lastPinFor(identity.phone);
      expect((await t.post('/auth/2fa/verify', { pin }, registered.body.accessToken)).status).toBe(200);
      users.push({ identity });
    }
    await t.db.query('DELETE FROM rate_limit_counters');
    await awayFromWindowEnd(HOUR);
    for (let i = 0; i < 10; i++) {
      expect(
        (await login(t, users[i].identity, undefined, from(`2001:db8:7:${i.toString(16)}::1`))).status,
      ).toBe(200);
    }
    expectTooMany(await login(t, users[10].identity, undefined, from('2001:db8:7:ff::1')), HOUR);
    expect(await rateLimited(t, 'sms_per_ip_hour_56')).toBe(1);
  });
});
