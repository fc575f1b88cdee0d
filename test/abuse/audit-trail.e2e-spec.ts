import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  claimsOf,
  login,
  logout,
  refresh,
  register,
  verify,
  WRONG_PASSWORD,
  wrongPin,
} from '../support/auth-api.js';
import { count } from '../support/db.js';
import { expectError } from '../support/expect-error.js';
import { closeApp, newIdentity, startTestApp, TestApp } from '../support/test-app.js';

/**
 * The audit trail (GET /users/me/events): what happened to the account, from where, and never a secret.
 */

describe('audit trail (GET /users/me/events)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { REFRESH_REUSE_GRACE_SECONDS: '0' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  const events = (token: string, query = '') => t.get(`/users/me/events${query}`, token);

  it('lists the caller’s events newest first, with ip, user agent and time, and no secret anywhere', async () => {
    const ua = { 'user-agent': 'abuse-e2e-agent/1.0' };
    const id = newIdentity();
    const secrets: string[] = [id.password, WRONG_PASSWORD];
    const pins: string[] = [];
    const started = Date.now();

    const registered = await register(t, id, ua);
    expect(registered.status).toBe(201);
    pins.push(t.xoxzo.lastPinFor(id.phone));
    const wrong = wrongPin(pins[0]);
    pins.push(wrong);
    expectError(await verify(t, registered.body.accessToken, wrong, ua), 401, 'PIN_INVALID');
    const first = await verify(t, registered.body.accessToken, pins[0], ua);
    expect(first.status).toBe(200);

    expectError(await login(t, id, WRONG_PASSWORD, ua), 401, 'INVALID_CREDENTIALS');
    const second = await login(t, id, id.password, ua);
    expect(second.status).toBe(200);
    pins.push(t.xoxzo.lastPinFor(id.phone));
    const session2 = await verify(t, second.body.accessToken, pins[2], ua);
    expect(session2.status).toBe(200);

    // Reuse of a spent refresh token revokes session 1.
    const rotated = await refresh(t, first.body.refreshToken, ua);
    expect(rotated.status).toBe(200);
    const reused = await refresh(t, first.body.refreshToken, ua);
    expectError(reused, 401, 'REFRESH_INVALID');
    const loggedOut = await logout(t, session2.body.accessToken, {}, ua);
    expect(loggedOut.status).toBe(204);

    const third = await login(t, id, id.password, ua);
    expect(third.status).toBe(200);
    pins.push(t.xoxzo.lastPinFor(id.phone));
    const session3 = await verify(t, third.body.accessToken, pins[3], ua);
    expect(session3.status).toBe(200);
    secrets.push(
      registered.body.accessToken,
      second.body.accessToken,
      third.body.accessToken,
      ...[first, session2, rotated, session3].flatMap((s) => [
        s.body.accessToken as string,
        s.body.refreshToken as string,
      ]),
    );

    const res = await events(session3.body.accessToken);
    expect(res.status).toBe(200);
    const list = res.body.events as { type: string; at: string; ip: string; userAgent: string | null }[];
    expect(list.map((e) => e.type)).toEqual([
      'pin_verified',
      'pin_sent',
      'login_succeeded',
      'logout',
      'refresh_reused',
      'pin_verified',
      'pin_sent',
      'login_succeeded',
      'login_failed',
      'pin_verified',
      'pin_rejected',
      'registered',
      'pin_sent',
    ]);
    for (const event of list) {
      expect(event).toMatchObject({ ip: '127.0.0.1', userAgent: 'abuse-e2e-agent/1.0' });
      expect(event.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(Date.parse(event.at)).toBeGreaterThanOrEqual(started - 2000);
      expect(Date.parse(event.at)).toBeLessThanOrEqual(Date.now() + 2000);
    }
    const times = list.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((x, y) => y - x));

    // No PIN, password or token in the answer, nor anywhere in the table.
    const table = JSON.stringify((await t.db.query('SELECT * FROM auth_events')).rows);
    for (const text of [JSON.stringify(res.body), table]) {
      for (const secret of secrets) expect(text.includes(secret)).toBe(false);
      for (const pin of pins) expect(text).not.toMatch(new RegExp(`(?<![0-9A-Za-z])${pin}(?![0-9A-Za-z])`));
    }

    // ?limit=2: the two newest.
    const two = await events(session3.body.accessToken, '?limit=2');
    expect(two.status).toBe(200);
    expect(two.body.events).toEqual(list.slice(0, 2));
  });

  it('refuses a partial token with 401 SECOND_FACTOR_REQUIRED', async () => {
    const id = newIdentity();
    const registered = await register(t, id);
    expect(registered.status).toBe(201);
    const res = await events(registered.body.accessToken);
    expectError(res, 401, 'SECOND_FACTOR_REQUIRED');
    expect(res.body.events).toBeUndefined();
  });

  it('shows only the caller’s own events', async () => {
    const a = newIdentity();
    const b = newIdentity();
    const ra = await register(t, a, { 'user-agent': 'agent-of-a' });
    const rb = await register(t, b, { 'user-agent': 'agent-of-b' });
    const va = await verify(t, ra.body.accessToken, t.xoxzo.lastPinFor(a.phone), {
      'user-agent': 'agent-of-a',
    });
    const vb = await verify(t, rb.body.accessToken, t.xoxzo.lastPinFor(b.phone), {
      'user-agent': 'agent-of-b',
    });
    expect([va.status, vb.status]).toEqual([200, 200]);
    // Someone fails to log in as a: only a sees it.
    expectError(
      await login(t, a, WRONG_PASSWORD, { 'user-agent': 'agent-of-b' }),
      401,
      'INVALID_CREDENTIALS',
    );

    const listA = (await events(va.body.accessToken)).body.events as { userAgent: string }[];
    const listB = (await events(vb.body.accessToken)).body.events as { userAgent: string }[];
    expect(listB.map((e) => e.userAgent)).toEqual(['agent-of-b', 'agent-of-b', 'agent-of-b']);
    expect(listA).toHaveLength(4);
    expect(listA[0]).toMatchObject({ type: 'login_failed', userAgent: 'agent-of-b' });
    expect(listA.slice(1).map((e) => e.userAgent)).toEqual(['agent-of-a', 'agent-of-a', 'agent-of-a']);
    expect(await count(t, 'auth_events WHERE user_id = $1', [claimsOf(vb.body.accessToken).userId])).toBe(
      listB.length,
    );
  });
});
