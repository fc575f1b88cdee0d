import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { login, resend, verify, wrongPin } from '../support/auth-api.js';
import { eventsOf, row } from '../support/db.js';
import { expectError } from '../support/expect-error.js';
import { closeApp, registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';

/**
 * A cap on consecutive wrong PINs per account, across login attempts (NIST SP 800-63B-4 §3.2.2): new logins
 * do not reset it, only a right PIN does; at the cap the second factor is suspended.
 */
describe('consecutive wrong PINs (PIN_CONSECUTIVE_FAILURE_LIMIT=20, PIN_MAX_ATTEMPTS=5, PIN_LOCKOUT_SECONDS=600)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { PIN_CONSECUTIVE_FAILURE_LIMIT: '20', PIN_MAX_ATTEMPTS: '5', PIN_LOCKOUT_SECONDS: '600' },
    });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  /** A login, then `n` wrong PINs on its attempt; returns the partial token. */
  async function wrongPins(identity: { email: string; password: string; phone: string }, n: number) {
    const res = await login(t, identity);
    expect(res.status).toBe(200);
    const pin = t.xoxzo.lastPinFor(identity.phone);
    for (let i = 0; i < n; i++)
      expectError(await verify(t, res.body.accessToken, wrongPin(pin)), 401, 'PIN_INVALID');
    return { token: res.body.accessToken as string, pin };
  }

  it('suspends the second factor after 20 wrong PINs over 4 logins: the right password gets 429, no SMS', async () => {
    const { identity } = await registerAndVerify(t);
    for (let i = 0; i < 3; i++) await wrongPins(identity, 5);
    const last = await wrongPins(identity, 4);
    expectError(await verify(t, last.token, wrongPin(last.pin)), 401, 'PIN_INVALID'); // the 20th
    // Even the right PIN of the still-open attempt is refused now.
    const locked = await verify(t, last.token, last.pin);
    expectError(locked, 429, 'SECOND_FACTOR_LOCKED');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(590);
    expect(locked.body.retryAfter).toBe(Number(locked.headers.get('retry-after')));

    const sent = t.xoxzo.messagesTo(identity.phone).length;
    const res = await login(t, identity);
    expectError(res, 429, 'SECOND_FACTOR_LOCKED');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(590);
    expect(res.body.accessToken).toBeUndefined();
    expect(t.xoxzo.messagesTo(identity.phone)).toHaveLength(sent);

    const userId = (await row<{ id: string }>(t, 'SELECT id FROM users WHERE email = $1', [identity.email]))!
      .id;
    expect(await eventsOf(t, userId, 'second_factor_locked')).toBe(1);
    expect(await eventsOf(t, userId, 'login_blocked')).toBe(1);

    // When the suspension ends, the right PIN works again and resets the count.
    await t.db.query(
      `UPDATE second_factor_failures SET locked_until = now() - interval '1 second' WHERE user_id = $1`,
      [userId],
    );
    const again = await login(t, identity);
    expect(again.status).toBe(200);
    expect((await verify(t, again.body.accessToken, t.xoxzo.lastPinFor(identity.phone))).status).toBe(200);
    expect(await row(t, 'SELECT * FROM second_factor_failures WHERE user_id = $1', [userId])).toBeUndefined();
  });

  it('does not reset the count on a new login or a resend: only a right PIN does', async () => {
    const { identity } = await registerAndVerify(t);
    for (let i = 0; i < 3; i++) await wrongPins(identity, 5);
    const ok = await login(t, identity);
    expect((await verify(t, ok.body.accessToken, t.xoxzo.lastPinFor(identity.phone))).status).toBe(200);
    // The count started again: 19 more wrong PINs do not suspend anything.
    for (let i = 0; i < 3; i++) await wrongPins(identity, 5);
    await wrongPins(identity, 4);
    expect((await login(t, identity)).status).toBe(200);
  });

  it('counts wrong PINs against the account, not the client: another account is unaffected', async () => {
    const a = await registerAndVerify(t);
    const b = await registerAndVerify(t);
    for (let i = 0; i < 4; i++) await wrongPins(a.identity, 5);
    expectError(await login(t, a.identity), 429, 'SECOND_FACTOR_LOCKED');
    expect((await login(t, b.identity)).status).toBe(200);
  });
});

describe('consecutive wrong PINs and resends (PIN_CONSECUTIVE_FAILURE_LIMIT=20, PIN_MAX_ATTEMPTS=5, PIN_RESEND_SECONDS=0)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { PIN_CONSECUTIVE_FAILURE_LIMIT: '20', PIN_MAX_ATTEMPTS: '5', PIN_RESEND_SECONDS: '0' },
    });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  async function wrongPins(identity: { email: string; password: string; phone: string }, n: number) {
    const res = await login(t, identity);
    expect(res.status).toBe(200);
    const pin = t.xoxzo.lastPinFor(identity.phone);
    for (let i = 0; i < n; i++)
      expectError(await verify(t, res.body.accessToken, wrongPin(pin)), 401, 'PIN_INVALID');
    return res.body.accessToken as string;
  }

  it('does not reset the count on a resend: 19 wrong, a resend, 1 wrong → suspended', async () => {
    const { identity } = await registerAndVerify(t);
    for (let i = 0; i < 3; i++) await wrongPins(identity, 5);
    const token = await wrongPins(identity, 4); // 19
    expect((await resend(t, token)).status).toBe(200);
    expectError(await verify(t, token, wrongPin(t.xoxzo.lastPinFor(identity.phone))), 401, 'PIN_INVALID'); // 20
    expectError(await login(t, identity), 429, 'SECOND_FACTOR_LOCKED');
  });

  it('refuses a resend of a still-open attempt while suspended: 429 SECOND_FACTOR_LOCKED, no SMS', async () => {
    const { identity } = await registerAndVerify(t);
    const open = await login(t, identity); // opened before the suspension, no wrong PIN yet
    expect(open.status).toBe(200);
    for (let i = 0; i < 4; i++) await wrongPins(identity, 5); // 20: suspended
    const sent = t.xoxzo.messagesTo(identity.phone).length;
    const res = await resend(t, open.body.accessToken);
    expectError(res, 429, 'SECOND_FACTOR_LOCKED');
    expect(t.xoxzo.messagesTo(identity.phone)).toHaveLength(sent);
  });
});
