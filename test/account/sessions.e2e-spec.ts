import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { login, verify } from '../support/auth-api.js';
import { eventsOf } from '../support/db.js';
import { expectError } from '../support/expect-error.js';
import { decodeJwt } from '../support/jwt-forge.js';
import { registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';

/** The user's sessions and devices where they are signed in: list them, sign one out, sign all others out. */
describe('sessions (GET/DELETE /users/me/sessions)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  /** A second session of the same user, from another "device". */
  async function anotherSession(
    identity: { email: string; password: string; phone: string },
    userAgent: string,
  ) {
    const partial = await t.request('POST', '/auth/login', {
      body: { email: identity.email, password: identity.password },
      headers: { 'user-agent': userAgent },
    });
    const res = await t.request('POST', '/auth/2fa/verify', {
      body: { pin: t.xoxzo.lastPinFor(identity.phone) },
      token: partial.body.accessToken,
      headers: { 'user-agent': userAgent },
    });
    expect(res.status).toBe(200);
    return res.body as { accessToken: string; refreshToken: string };
  }
  const del = (path: string, token: string) => t.request('DELETE', path, { token });

  it('lists live sessions, newest first, with the current one marked', async () => {
    const { identity, session } = await registerAndVerify(t);
    const laptop = await anotherSession(identity, 'Laptop/1.0');
    const res = await t.get('/users/me/sessions', session.accessToken);
    expect(res.status).toBe(200);
    expect(res.body.sessions).toHaveLength(2);
    const [newest, oldest] = res.body.sessions;
    expect(newest).toEqual({
      id: decodeJwt(laptop.accessToken).payload.sid,
      current: false,
      createdAt: expect.any(String),
      lastUsedAt: expect.any(String),
      ip: '127.0.0.1',
      userAgent: 'Laptop/1.0',
    });
    expect(oldest).toMatchObject({ id: decodeJwt(session.accessToken).payload.sid, current: true });
    expect(Date.parse(newest.createdAt)).toBeGreaterThanOrEqual(Date.parse(oldest.createdAt));
  });

  it('updates lastUsedAt on refresh', async () => {
    const { session } = await registerAndVerify(t);
    const before = (await t.get('/users/me/sessions', session.accessToken)).body.sessions[0];
    await t.db.query(`UPDATE sessions SET created_at = created_at - interval '1 hour'`);
    const refreshed = await t.post('/auth/refresh', { refreshToken: session.refreshToken });
    const after = (await t.get('/users/me/sessions', refreshed.body.accessToken)).body.sessions[0];
    expect(Date.parse(after.lastUsedAt)).toBeGreaterThan(Date.parse(before.createdAt) - 3_600_000);
    expect(Date.parse(after.lastUsedAt)).toBeGreaterThan(Date.parse(after.createdAt));
  });

  it('signs one session out: its access and refresh tokens stop working at once', async () => {
    const { identity, session } = await registerAndVerify(t);
    const laptop = await anotherSession(identity, 'Laptop/1.0');
    const laptopId = decodeJwt(laptop.accessToken).payload.sid as string;
    const res = await del(`/users/me/sessions/${laptopId}`, session.accessToken);
    expect(res.status).toBe(204);
    expectError(await t.get('/users/me', laptop.accessToken), 401, 'UNAUTHENTICATED');
    expectError(await t.post('/auth/refresh', { refreshToken: laptop.refreshToken }), 401, 'REFRESH_INVALID');
    expect((await t.get('/users/me', session.accessToken)).status).toBe(200);
    const listed = await t.get('/users/me/sessions', session.accessToken);
    expect((listed.body.sessions as { id: string }[]).map((s) => s.id)).not.toContain(laptopId);
    expect(await eventsOf(t, decodeJwt(session.accessToken).payload.sub as string, 'session_revoked')).toBe(
      1,
    );
  });

  it("answers 404 for a session that is not one of the caller's live sessions", async () => {
    const a = await registerAndVerify(t);
    const b = await registerAndVerify(t);
    const bSession = decodeJwt(b.session.accessToken).payload.sid as string;
    expectError(await del(`/users/me/sessions/${bSession}`, a.session.accessToken), 404, 'NOT_FOUND');
    expect((await t.get('/users/me', b.session.accessToken)).status).toBe(200);
    expectError(await del(`/users/me/sessions/${randomUUID()}`, a.session.accessToken), 404, 'NOT_FOUND');
    expectError(await del('/users/me/sessions/not-a-uuid', a.session.accessToken), 404, 'NOT_FOUND');
    // An ended session is not live any more.
    await t.post('/auth/logout', {}, b.session.accessToken);
    const again = await login(t, b.identity);
    const fresh = await verify(t, again.body.accessToken, t.xoxzo.lastPinFor(b.identity.phone));
    expectError(await del(`/users/me/sessions/${bSession}`, fresh.body.accessToken), 404, 'NOT_FOUND');
  });

  it('signs every other session out; the current one stays', async () => {
    const { identity, session } = await registerAndVerify(t);
    const laptop = await anotherSession(identity, 'Laptop/1.0');
    const phone = await anotherSession(identity, 'Phone/2.0');
    expect((await del('/users/me/sessions', session.accessToken)).status).toBe(204);
    for (const other of [laptop, phone]) {
      expectError(await t.get('/users/me', other.accessToken), 401, 'UNAUTHENTICATED');
      expectError(
        await t.post('/auth/refresh', { refreshToken: other.refreshToken }),
        401,
        'REFRESH_INVALID',
      );
    }
    expect((await t.get('/users/me', session.accessToken)).status).toBe(200);
    expect((await t.get('/users/me/sessions', session.accessToken)).body.sessions).toHaveLength(1);
  });
});
