import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from '../support/jwt-forge.js';
import { expectError } from '../support/expect-error.js';
import { registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';

describe('GET /auth/session', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers the session facts of a full token, from the token: userId, sessionId, times, amr, expiry', async () => {
    const before = Date.now();
    const { session } = await registerAndVerify(t);
    const res = await t.get('/auth/session', session.accessToken);
    expect(res.status).toBe(200);
    const { payload } = decodeJwt(session.accessToken);
    expect(res.body).toEqual({
      userId: payload.sub,
      sessionId: payload.sid,
      authTime: new Date((payload.auth_time as number) * 1000).toISOString(),
      secondFactorAt: new Date((payload.sfa_time as number) * 1000).toISOString(),
      amr: ['pwd', 'sms', 'mfa'],
      expiresAt: new Date((payload.exp as number) * 1000).toISOString(),
    });
    expect(Date.parse(res.body.secondFactorAt)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.authTime)).toBeGreaterThanOrEqual(899_000);
  });

  it('refuses a partial token (SECOND_FACTOR_REQUIRED) and an ended session', async () => {
    const registered = await t.post('/auth/register', (await import('../support/test-app.js')).newIdentity());
    expectError(await t.get('/auth/session', registered.body.accessToken), 401, 'SECOND_FACTOR_REQUIRED');
    const { session } = await registerAndVerify(t);
    await t.post('/auth/logout', {}, session.accessToken);
    expectError(await t.get('/auth/session', session.accessToken), 401, 'UNAUTHENTICATED');
  });

  it('keeps the facts across a refresh (same session, same second-factor time)', async () => {
    const { session } = await registerAndVerify(t);
    const first = await t.get('/auth/session', session.accessToken);
    const refreshed = await t.post('/auth/refresh', { refreshToken: session.refreshToken });
    const second = await t.get('/auth/session', refreshed.body.accessToken);
    expect(second.body.sessionId).toBe(first.body.sessionId);
    expect(second.body.secondFactorAt).toBe(first.body.secondFactorAt);
    expect(second.body.authTime).toBe(first.body.authTime);
  });
});
