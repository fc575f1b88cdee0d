import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Identity, login } from '../support/auth-api.js';
import { count, eventsOf, row, sha256, userIdByEmail } from '../support/db.js';
import { expectError } from '../support/expect-error.js';
import { decodeJwt } from '../support/jwt-forge.js';
import { stepUp } from '../support/sessions.js';
import { closeApp, newIdentity, startTestApp, TestApp } from '../support/test-app.js';

const UA = 'Phone/2.0 (remembered)';

/** "Remember this device": a PIN once, then the password and the device's token open full sessions. */
describe('remembered devices (rememberDevice, deviceToken, /users/me/devices)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await closeApp(t);
  });

  /** Registers and verifies the PIN with `rememberDevice`; returns the session response. */
  async function remembered(identity: Identity = newIdentity()) {
    const registered = await t.post('/auth/register', identity);
    const res = await t.request('POST', '/auth/2fa/verify', {
      body: { pin: t.xoxzo.lastPinFor(identity.phone), rememberDevice: true },
      token: registered.body.accessToken,
      headers: { 'user-agent': UA },
    });
    expect(res.status).toBe(200);
    const userId = await userIdByEmail(t, identity.email);
    return {
      identity,
      userId,
      session: res.body as { accessToken: string; refreshToken: string; deviceToken: string },
    };
  }
  const deviceLogin = (identity: Identity, deviceToken: unknown, password = identity.password) =>
    t.request('POST', '/auth/login', {
      body: { email: identity.email, password, deviceToken },
      headers: { 'user-agent': UA },
    });
  const devicesOf = async (token: string) =>
    (await t.get('/users/me/devices', token)).body.devices as { id: string; lastUsedAt: string | null }[];

  /** The device token is ignored: the answer is the normal PIN challenge, with one more SMS to `phone`. */
  async function expectIgnored(identity: Identity, deviceToken: string, phone = identity.phone) {
    const sent = t.xoxzo.messagesTo(phone).length;
    const res = await deviceLogin(identity, deviceToken);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ authLevel: 'partial', challenge: { channel: 'sms' } });
    expect(res.body.refreshToken).toBeUndefined();
    expect(t.xoxzo.messagesTo(phone)).toHaveLength(sent + 1);
  }

  it('returns a 256-bit deviceToken, stored only as its hash, and lists the device', async () => {
    const { userId, session } = await remembered();
    expect(session.deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await row<{ token_hash: Buffer; user_agent: string }>(
      t,
      'SELECT token_hash, user_agent FROM trusted_devices WHERE user_id = $1',
      [userId],
    );
    expect(stored!.token_hash.equals(sha256(session.deviceToken))).toBe(true);
    const res = await t.get('/users/me/devices', session.accessToken);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      devices: [{ id: expect.any(String), createdAt: expect.any(String), lastUsedAt: null, userAgent: UA }],
    });
    expect(await eventsOf(t, userId, 'device_remembered')).toBe(1);
    const events = (await t.get('/users/me/events', session.accessToken)).body.events as { type: string }[];
    expect(events.map((e) => e.type)).toContain('device_remembered');
  });

  it('gives no deviceToken without rememberDevice', async () => {
    const identity = newIdentity();
    const registered = await t.post('/auth/register', identity);
    const res = await t.post(
      '/auth/2fa/verify',
      { pin: t.xoxzo.lastPinFor(identity.phone) },
      registered.body.accessToken,
    );
    expect(res.status).toBe(200);
    expect(res.body.deviceToken).toBeUndefined();
    expect(
      await count(t, 'trusted_devices WHERE user_id = $1', [await userIdByEmail(t, identity.email)]),
    ).toBe(0);
  });

  it('opens a full session with the password and the device token: no SMS, amr without sms', async () => {
    const { identity, userId, session } = await remembered();
    const sent = t.xoxzo.messagesTo(identity.phone).length;
    const res = await deviceLogin(identity, session.deviceToken);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      tokenType: 'Bearer',
      authLevel: 'full',
      refreshToken: expect.any(String),
    });
    expect(res.body.deviceToken).toBeUndefined();
    expect(t.xoxzo.messagesTo(identity.phone)).toHaveLength(sent);
    const { payload } = decodeJwt(res.body.accessToken);
    expect(payload.amr).toEqual(['pwd', 'device']);
    expect((await t.get('/users/me', res.body.accessToken)).status).toBe(200);
    expect((await t.post('/auth/refresh', { refreshToken: res.body.refreshToken })).status).toBe(200);
    expect(await eventsOf(t, userId, 'device_used')).toBe(1);
    expect((await devicesOf(res.body.accessToken))[0]?.lastUsedAt).toEqual(expect.any(String));
  });

  it('keeps the time the PIN was proven as secondFactorAt, so step-up routes still ask for a PIN', async () => {
    const { identity, userId, session } = await remembered();
    await t.db.query(
      `UPDATE trusted_devices SET second_factor_at = now() - interval '2 days' WHERE user_id = $1`,
      [userId],
    );
    const res = await deviceLogin(identity, session.deviceToken);
    const facts = (await t.get('/auth/session', res.body.accessToken)).body;
    expect(Date.now() - Date.parse(facts.secondFactorAt)).toBeGreaterThan(2 * 86_400_000 - 60_000);
    expect(Date.now() - Date.parse(facts.authTime)).toBeLessThan(60_000);
    const sensitive = await t.post('/users/me/phone', { phone: newIdentity().phone }, res.body.accessToken);
    expectError(sensitive, 401, 'STEP_UP_REQUIRED');

    // A step-up on the device proves the PIN again: the session's amr gains sms, and so does the device's time.
    const stepped = await stepUp(t, res.body.accessToken, identity.phone);
    expect(decodeJwt(stepped.accessToken).payload.amr).toEqual(['pwd', 'device', 'sms', 'mfa']);
    const next = await deviceLogin(identity, session.deviceToken);
    const nextFacts = (await t.get('/auth/session', next.body.accessToken)).body;
    expect(Date.now() - Date.parse(nextFacts.secondFactorAt)).toBeLessThan(60_000);
  });

  it('still needs the right password', async () => {
    const { identity, session } = await remembered();
    expectError(
      await deviceLogin(identity, session.deviceToken, 'not the right password'),
      401,
      'INVALID_CREDENTIALS',
    );
  });

  it('ignores a wrong, malformed, other user’s, expired or forgotten device token: the PIN challenge follows', async () => {
    const { identity, userId, session } = await remembered();
    const other = await remembered();
    for (const token of ['A'.repeat(43), 'not a token at all!', other.session.deviceToken]) {
      await expectIgnored(identity, token);
    }
    await t.db.query(
      `UPDATE trusted_devices SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
      [userId],
    );
    await expectIgnored(identity, session.deviceToken);
    expect(await devicesOf(session.accessToken)).toEqual([]);
    expect(await eventsOf(t, userId, 'device_used')).toBe(0);
  });

  it('forgets one device (204): its token no longer skips the PIN; 404 for an id that is not the caller’s', async () => {
    const { identity, userId, session } = await remembered();
    const other = await remembered();
    const [device] = await devicesOf(session.accessToken);
    const [othersDevice] = await devicesOf(other.session.accessToken);
    const del = (id: string, token = session.accessToken) =>
      t.request('DELETE', `/users/me/devices/${id}`, { token });
    expectError(await del(othersDevice?.id ?? ''), 404, 'NOT_FOUND');
    expectError(await del('not-a-uuid'), 404, 'NOT_FOUND');
    expect(await devicesOf(other.session.accessToken)).toHaveLength(1);
    expect((await del(device?.id ?? '')).status).toBe(204);
    expectError(await del(device?.id ?? ''), 404, 'NOT_FOUND');
    await expectIgnored(identity, session.deviceToken);
    expect(await eventsOf(t, userId, 'device_forgotten')).toBe(1);
  });

  it('forgets every device on a password change', async () => {
    const { identity, userId, session } = await remembered();
    const res = await t.post(
      '/users/me/password',
      { currentPassword: identity.password, newPassword: 'a completely new passphrase' },
      session.accessToken,
    );
    expect(res.status).toBe(204);
    const changed = { ...identity, password: 'a completely new passphrase' };
    await expectIgnored(changed, session.deviceToken);
    expect(await count(t, 'trusted_devices WHERE user_id = $1', [userId])).toBe(0);
    expect(await eventsOf(t, userId, 'device_forgotten')).toBe(1);
  });

  it('forgets every device on a phone change', async () => {
    const { identity, userId, session } = await remembered();
    const phone = newIdentity().phone;
    expect((await t.post('/users/me/phone', { phone }, session.accessToken)).status).toBe(200);
    const res = await t.post(
      '/users/me/phone/verify',
      { pin: t.xoxzo.lastPinFor(phone) },
      session.accessToken,
    );
    expect(res.status).toBe(200);
    const moved = { ...identity, phone };
    await expectIgnored(moved, session.deviceToken, phone);
    expect(await count(t, 'trusted_devices WHERE user_id = $1', [userId])).toBe(0);
  });

  it('forgets every device on "end all other sessions"', async () => {
    const { identity, userId, session } = await remembered();
    expect((await t.request('DELETE', '/users/me/sessions', { token: session.accessToken })).status).toBe(
      204,
    );
    await expectIgnored(identity, session.deviceToken);
    expect(await count(t, 'trusted_devices WHERE user_id = $1', [userId])).toBe(0);
  });

  it('lets the owner in on a remembered device while wrong PINs from elsewhere have suspended the second factor', async () => {
    const { identity, userId, session } = await remembered();
    await t.db.query(
      `INSERT INTO second_factor_failures (user_id, failures, last_failure_at, locked_until)
       VALUES ($1, 100, now(), now() + interval '10 minutes')`,
      [userId],
    );
    expectError(await login(t, identity), 429, 'SECOND_FACTOR_LOCKED');
    const res = await deviceLogin(identity, session.deviceToken);
    expect(res.status).toBe(200);
    expect(res.body.authLevel).toBe('full');
  });

  it('refuses a deviceToken or rememberDevice of the wrong type with 400 VALIDATION_FAILED', async () => {
    const { identity, session } = await remembered();
    expectError(await deviceLogin(identity, 12345), 400, 'VALIDATION_FAILED');
    const partial = await login(t, identity);
    const res = await t.post(
      '/auth/2fa/verify',
      { pin: t.xoxzo.lastPinFor(identity.phone), rememberDevice: 'yes' },
      partial.body.accessToken,
    );
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(session.deviceToken).toBeDefined();
  });
});

describe('remembered devices with TRUSTED_DEVICE_DAYS=0 (off)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUSTED_DEVICE_DAYS: '0' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('ignores rememberDevice: no deviceToken, nothing stored', async () => {
    const identity = newIdentity();
    const registered = await t.post('/auth/register', identity);
    const res = await t.post(
      '/auth/2fa/verify',
      { pin: t.xoxzo.lastPinFor(identity.phone), rememberDevice: true },
      registered.body.accessToken,
    );
    expect(res.status).toBe(200);
    expect(res.body.deviceToken).toBeUndefined();
    expect(await count(t, 'trusted_devices')).toBe(0);
  });

  it('ignores the token of a device remembered while the feature was on', async () => {
    const identity = newIdentity();
    const registered = await t.post('/auth/register', identity);
    await t.post(
      '/auth/2fa/verify',
      { pin: t.xoxzo.lastPinFor(identity.phone) },
      registered.body.accessToken,
    );
    const userId = await userIdByEmail(t, identity.email);
    const token = 'B'.repeat(43);
    await t.db.query(
      `INSERT INTO trusted_devices (id, user_id, token_hash, second_factor_at, expires_at)
       VALUES (gen_random_uuid(), $1, $2, now(), now() + interval '1 day')`,
      [userId, sha256(token)],
    );
    const res = await t.request('POST', '/auth/login', {
      body: { email: identity.email, password: identity.password, deviceToken: token },
    });
    expect(res.status).toBe(200);
    expect(res.body.authLevel).toBe('partial');
  });
});
