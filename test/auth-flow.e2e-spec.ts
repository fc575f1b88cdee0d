import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newIdentity, startTestApp, TestApp } from './support/test-app.js';

describe('register → PIN → verify → /users/me → refresh → logout', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('walks the whole flow a client follows', async () => {
    const id = newIdentity();
    const registered = await t.post('/auth/register', { ...id, email: id.email.toUpperCase() });
    expect(registered.status).toBe(201);
    expect(registered.body).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 600,
      authLevel: 'partial',
      challenge: {
        channel: 'sms',
        to: expect.stringMatching(/^\+81\*+\d{4}$/),
        expiresIn: 300,
        resendIn: 30,
        // No PUBLIC_BASE_URL: Xoxzo will not report delivery, so the client is not told to wait for it.
        delivery: 'unknown',
        attemptsLeft: 5,
      },
    });

    const [sms] = t.xoxzo.messagesTo(id.phone);
    expect(sms.sender).toBe('XOXZO');
    expect(sms.message).toMatch(
      /^XOXZO: your verification code is \d{6}\. It expires in 5 minutes\. Do not share it\.$/,
    );

    const verified = await t.post(
      '/auth/2fa/verify',
      { pin: t.xoxzo.lastPinFor(id.phone) },
      registered.body.accessToken,
    );
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
      authLevel: 'full',
    });

    const me = await t.get('/users/me', verified.body.accessToken);
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: expect.any(String),
      email: id.email,
      phone: id.phone,
      phoneVerified: true,
      createdAt: expect.any(String),
    });

    const refreshed = await t.post('/auth/refresh', { refreshToken: verified.body.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(verified.body.refreshToken);
    expect((await t.get('/users/me', refreshed.body.accessToken)).status).toBe(200);

    const logout = await t.post('/auth/logout', {}, refreshed.body.accessToken);
    expect(logout.status).toBe(204);
    const afterLogout = await t.post('/auth/refresh', { refreshToken: refreshed.body.refreshToken });
    expect(afterLogout.status).toBe(401);
    expect(afterLogout.body.code).toBe('REFRESH_INVALID');
    expect((await t.get('/users/me', refreshed.body.accessToken)).body.code).toBe('UNAUTHENTICATED');

    const login = await t.post('/auth/login', { email: id.email, password: id.password });
    expect(login.status).toBe(200);
    expect(login.body.authLevel).toBe('partial');
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(2);
  });

  it('answers /health with 200 while the database is up', async () => {
    const health = await t.get('/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
  });
});
