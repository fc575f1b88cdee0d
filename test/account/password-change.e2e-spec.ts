import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { login } from '../support/auth-api.js';
import { eventsOf, row, sha256 } from '../support/db.js';
import { expectError } from '../support/expect-error.js';
import { decodeJwt } from '../support/jwt-forge.js';
import { registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';

describe('password change (POST /users/me/password)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { LOGIN_FREE_FAILURES: '3' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const change = (token: string, currentPassword: string, newPassword: string) =>
    t.post('/users/me/password', { currentPassword, newPassword }, token);

  it('replaces the password, ends every other session, keeps this one', async () => {
    const { identity, session } = await registerAndVerify(t);
    const other = await login(t, identity);
    const otherSession = await t.post(
      '/auth/2fa/verify',
      { pin: t.xoxzo.lastPinFor(identity.phone) },
      other.body.accessToken,
    );
    const res = await change(session.accessToken, identity.password, 'a brand new passphrase 2026');
    expect(res.status).toBe(204);
    expectError(await t.get('/users/me', otherSession.body.accessToken), 401, 'UNAUTHENTICATED');
    expectError(
      await t.post('/auth/refresh', { refreshToken: otherSession.body.refreshToken }),
      401,
      'REFRESH_INVALID',
    );
    expect((await t.get('/users/me', session.accessToken)).status).toBe(200);
    expectError(await login(t, identity), 401, 'INVALID_CREDENTIALS');
    expect((await login(t, { ...identity, password: 'a brand new passphrase 2026' })).status).toBe(200);
    expect(await eventsOf(t, decodeJwt(session.accessToken).payload.sub as string, 'password_changed')).toBe(
      1,
    );
  });

  it("answers a wrong current password with 401 INVALID_CREDENTIALS, counted as the account's failed login", async () => {
    const { identity, session } = await registerAndVerify(t);
    for (let i = 0; i < 3; i++) {
      expectError(
        await change(session.accessToken, 'not my password at all', 'another good passphrase'),
        401,
        'INVALID_CREDENTIALS',
      );
    }
    const failures = await row<{ failures: number }>(
      t,
      'SELECT failures FROM login_failures WHERE email_hash = $1',
      [sha256(identity.email)],
    );
    expect(failures?.failures).toBe(3);
    // The login name is now in its growing delay: even the right password must wait.
    expectError(await login(t, identity), 429, 'TOO_MANY_REQUESTS');
    expect((await t.get('/users/me', session.accessToken)).status).toBe(200);
  });

  it('applies the password policy to the new password (400 on newPassword; nothing changes)', async () => {
    const { identity, session } = await registerAndVerify(t);
    for (const weak of [
      'password123',
      `${identity.email.split('@')[0]}!!`,
      `tel ${identity.phone.slice(-8)}`,
      'short',
    ]) {
      const res = await change(session.accessToken, identity.password, weak);
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(JSON.stringify(res.body.message)).toMatch(/password/);
    }
    expect((await login(t, identity)).status).toBe(200);
  });
});
