import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { login, register, WRONG_PASSWORD } from '../support/auth-api.js';
import { count, rateLimited } from '../support/db.js';
import { expectError, expectTooMany } from '../support/expect-error.js';
import { closeApp, newIdentity, registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';
import { awayFromWindowEnd, HOUR } from '../support/windows.js';

/**
 * Registration cannot be turned against users: its probes (409 EMAIL_TAKEN / PHONE_TAKEN) spend no SMS
 * budget and are bounded by their own limits, and its SMS come from pools of their own, so no registration
 * traffic can lock a verified user out or make the answer to a right password differ from a wrong one.
 */

describe('probes spend no SMS budget (per phone and global SMS limits on, registration limits off)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        SMS_LIMIT_PER_PHONE_HOUR: '3',
        SMS_LIMIT_PER_PHONE_DAY: '3',
        SMS_LIMIT_GLOBAL_PER_MINUTE: '3',
        REGISTRATION_SMS_LIMIT_GLOBAL_PER_MINUTE: '100',
      },
    });
  });
  beforeEach(async () => {
    await t.db.query('DELETE FROM rate_limit_counters');
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it("10 registrations with a victim's verified phone: all 409, the victim still logs in, and sees the probes", async () => {
    await awayFromWindowEnd(HOUR);
    const victim = await registerAndVerify(t);
    for (let i = 0; i < 10; i++) {
      expectError(await register(t, { ...newIdentity(), phone: victim.identity.phone }), 409, 'PHONE_TAKEN');
    }
    expect(t.xoxzo.messagesTo(victim.identity.phone)).toHaveLength(1);
    const loggedIn = await login(t, victim.identity);
    expect(loggedIn.status).toBe(200);
    const pin = t.xoxzo.lastPinFor(victim.identity.phone);
    const session = await t.post('/auth/2fa/verify', { pin }, loggedIn.body.accessToken);
    const events = await t.get('/users/me/events', session.body.accessToken);
    const probes = (events.body.events as { type: string; details: unknown }[]).filter(
      (e) => e.type === 'registration_refused',
    );
    expect(probes).toHaveLength(10);
    expect(probes[0].details).toEqual({ reason: 'PHONE_TAKEN' });
  });

  it("an EMAIL_TAKEN probe is audited on the owner's account, with its reason", async () => {
    const owner = await registerAndVerify(t);
    expectError(await register(t, { ...newIdentity(), email: owner.identity.email }), 409, 'EMAIL_TAKEN');
    const events = await t.get('/users/me/events', owner.session.accessToken);
    const probes = (events.body.events as { type: string; details: unknown }[]).filter(
      (e) => e.type === 'registration_refused',
    );
    expect(probes).toHaveLength(1);
    expect(probes[0].details).toEqual({ reason: 'EMAIL_TAKEN' });
  });

  it('100 EMAIL_TAKEN probes leave the global login budget untouched', async () => {
    await awayFromWindowEnd(HOUR);
    const users = [await registerAndVerify(t), await registerAndVerify(t), await registerAndVerify(t)];
    await t.db.query('DELETE FROM rate_limit_counters');
    for (let i = 0; i < 100; i++) {
      expectError(
        await register(t, { ...newIdentity(), email: users[i % 3].identity.email }),
        409,
        'EMAIL_TAKEN',
      );
    }
    for (const user of users) expect((await login(t, user.identity)).status).toBe(200);
    expect(await rateLimited(t, 'sms_global_minute')).toBe(0);
  });
});

describe('registration limits (REGISTRATION_LIMIT_PER_IP_HOUR=3, REGISTRATION_LIMIT_PER_EMAIL_HOUR=2)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        REGISTRATION_LIMIT_PER_IP_HOUR: '3',
        REGISTRATION_LIMIT_PER_EMAIL_HOUR: '2',
        TRUST_PROXY: '127.0.0.1',
      },
    });
  });
  beforeEach(async () => {
    await t.db.query('DELETE FROM rate_limit_counters');
  });
  afterAll(async () => {
    await closeApp(t);
  });

  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it('counts every registration from one IP, 201 and 409 alike', async () => {
    await awayFromWindowEnd(HOUR);
    const taken = await registerAndVerify(t);
    await t.db.query('DELETE FROM rate_limit_counters');
    expect((await register(t, newIdentity(), from('198.51.100.1'))).status).toBe(201);
    expectError(
      await register(t, { ...newIdentity(), email: taken.identity.email }, from('198.51.100.1')),
      409,
      'EMAIL_TAKEN',
    );
    expectError(
      await register(t, { ...newIdentity(), phone: taken.identity.phone }, from('198.51.100.1')),
      409,
      'PHONE_TAKEN',
    );
    const refused = newIdentity();
    expectTooMany(await register(t, refused, from('198.51.100.1')), HOUR);
    expect(await count(t, 'users WHERE email = $1', [refused.email])).toBe(0);
    expect(await rateLimited(t, 'registrations_per_ip_hour')).toBe(1);
    // Another address is not affected.
    expect((await register(t, newIdentity(), from('198.51.100.2'))).status).toBe(201);
  });

  it('counts every registration of one email, from any address', async () => {
    await awayFromWindowEnd(HOUR);
    const taken = await registerAndVerify(t);
    await t.db.query('DELETE FROM rate_limit_counters');
    const probe = (ip: string) => register(t, { ...newIdentity(), email: taken.identity.email }, from(ip));
    expectError(await probe('203.0.113.1'), 409, 'EMAIL_TAKEN');
    expectError(await probe('203.0.113.2'), 409, 'EMAIL_TAKEN');
    expectTooMany(await probe('203.0.113.3'), HOUR);
    expect(await rateLimited(t, 'registrations_per_email_hour')).toBe(1);
  });

  it('counts rotating addresses of one IPv4 /24 together (5× the per-IP budget)', async () => {
    await awayFromWindowEnd(HOUR);
    for (let i = 1; i <= 15; i++)
      expect((await register(t, newIdentity(), from(`192.0.2.${i}`))).status).toBe(201);
    expectTooMany(await register(t, newIdentity(), from('192.0.2.99')), HOUR);
    expect(await rateLimited(t, 'registrations_per_ip_hour_24')).toBe(1);
    expect((await register(t, newIdentity(), from('192.0.3.1'))).status).toBe(201);
  });

  it('counts rotating /64s of one IPv6 /56 together (5×), and of one /48 (20×)', async () => {
    await awayFromWindowEnd(HOUR);
    for (let i = 1; i <= 15; i++) {
      expect((await register(t, newIdentity(), from(`2001:db8:1:${i.toString(16)}::1`))).status).toBe(201);
    }
    expectTooMany(await register(t, newIdentity(), from('2001:db8:1:ff::1')), HOUR);
    expect(await rateLimited(t, 'registrations_per_ip_hour_56')).toBe(1);
    // Other /56s of the same /48 still have budget, until the /48's 60 are spent.
    for (let block = 1; block <= 3; block++) {
      for (let i = 0; i < 15; i++) {
        const ip = `2001:db8:1:${(block * 256 + i).toString(16)}::1`;
        expect((await register(t, newIdentity(), from(ip))).status).toBe(201);
      }
    }
    expectTooMany(await register(t, newIdentity(), from('2001:db8:1:4ff::1')), HOUR);
    expect(await rateLimited(t, 'registrations_per_ip_hour_48')).toBe(1);
  });
});

describe('a right password is never answered differently because of what anonymous callers filled', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { SMS_LIMIT_PER_IP_HOUR: '2', REGISTRATION_SMS_LIMIT_GLOBAL_PER_MINUTE: '2' },
    });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('after registrations exhaust every budget they can reach, a right password is 200 and a wrong one 401', async () => {
    await awayFromWindowEnd(HOUR);
    const victim = await registerAndVerify(t);
    await t.db.query('DELETE FROM rate_limit_counters');
    // The same client IP registers until its new-number budgets refuse.
    expect((await register(t, newIdentity())).status).toBe(201);
    expect((await register(t, newIdentity())).status).toBe(201);
    expectTooMany(await register(t, newIdentity()));
    expectTooMany(await register(t, { ...newIdentity(), phone: victim.identity.phone.replace(/\d$/, '9') }));
    expectError(await login(t, victim.identity, WRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');
    expect((await login(t, victim.identity)).status).toBe(200);
  });
});

describe("a right password answers like a wrong one when the caller filled its own IP's login-SMS budget (SMS_LIMIT_PER_IP_HOUR=2)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_LIMIT_PER_IP_HOUR: '2' } });
  });
  afterAll(async () => closeApp(t));

  it("an attacker's own verified account spends 127.0.0.1's SMS budget; then the victim's right password must not be told apart from a wrong one", async () => {
    await awayFromWindowEnd(HOUR);
    const victim = await registerAndVerify(t);
    const attacker = await registerAndVerify(t);
    await t.db.query('DELETE FROM rate_limit_counters');
    expect((await login(t, attacker.identity)).status).toBe(200);
    expect((await login(t, attacker.identity)).status).toBe(200); // sms:ip:127.0.0.1 is now full
    const wrong = await login(t, victim.identity, WRONG_PASSWORD);
    const right = await login(t, victim.identity);
    // Today: wrong → 401 INVALID_CREDENTIALS, right → 429 TOO_MANY_REQUESTS and no SMS to the victim:
    // the password is confirmed silently.
    expect({ status: right.status, code: right.body.code }).toEqual({
      status: wrong.status,
      code: wrong.body.code,
    });
  });

  it('with a device token, only a live device of that same account skips the check: no oracle from the attacker’s own device', async () => {
    await awayFromWindowEnd(HOUR);
    const victim = await registerAndVerify(t);
    const attacker = await registerAndVerify(t);
    await t.db.query('DELETE FROM rate_limit_counters');
    const partial = await login(t, attacker.identity);
    const remembered = await t.post(
      '/auth/2fa/verify',
      { pin: t.xoxzo.lastPinFor(attacker.identity.phone), rememberDevice: true },
      partial.body.accessToken,
    );
    const deviceToken = remembered.body.deviceToken as string;
    expect(deviceToken).toEqual(expect.any(String));
    await t.db.query('DELETE FROM rate_limit_counters');
    expect((await login(t, attacker.identity)).status).toBe(200);
    expect((await login(t, attacker.identity)).status).toBe(200); // sms:ip:127.0.0.1 is now full
    const withToken = (password: string) =>
      t.post('/auth/login', { email: victim.identity.email, password, deviceToken });
    const wrong = await withToken(WRONG_PASSWORD);
    const right = await withToken(victim.identity.password);
    expect({ status: right.status, code: right.body.code }).toEqual({
      status: wrong.status,
      code: wrong.body.code,
    });
    // The attacker's own device still logs in: it sends no SMS, so the spent budget does not matter.
    const { email, password } = attacker.identity;
    const own = await t.post('/auth/login', { email, password, deviceToken });
    expect(own.status).toBe(200);
    expect(own.body.authLevel).toBe('full');
  });
});
