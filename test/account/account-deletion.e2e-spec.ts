import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Identity } from '../support/auth-api.js';
import { count, sha256, userIdByEmail } from '../support/db.js';
import { expectError } from '../support/expect-error.js';
import { withSecondFactorAged } from '../support/sessions.js';
import { closeApp, newIdentity, startTestApp, TestApp } from '../support/test-app.js';

/** Abuse counters are keyed by IP or number and expire with their window (at most a day): not account data. */
const NOT_ACCOUNT_DATA = new Set(['rate_limit_counters', 'migrations', 'typeorm_metadata']);

describe('account deletion (DELETE /users/me, recent second factor)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  let n = 0;
  /** A client of its own: a unique address (via X-Forwarded-For) and user agent, to find them afterwards. */
  function client() {
    n += 1;
    return { 'x-forwarded-for': `203.0.113.${n}`, 'user-agent': `DeletionTest/${n}.${Date.now()}` };
  }

  /** Registers on `headers`, remembers the device, logs in once more; returns everything that names it. */
  async function account(headers: Record<string, string>, identity: Identity = newIdentity()) {
    const registered = await t.request('POST', '/auth/register', { body: identity, headers });
    expect(registered.status).toBe(201);
    const verified = await t.request('POST', '/auth/2fa/verify', {
      body: { pin: t.xoxzo.lastPinFor(identity.phone), rememberDevice: true },
      token: registered.body.accessToken,
      headers,
    });
    expect(verified.status).toBe(200);
    // An open login attempt and a failed password (a count under its name), too.
    await t.request('POST', '/auth/login', {
      body: { email: identity.email, password: identity.password },
      headers,
    });
    await t.request('POST', '/auth/login', {
      body: { email: identity.email, password: 'not the password at all' },
      headers,
    });
    const userId = await userIdByEmail(t, identity.email);
    return { identity, userId, session: verified.body as { accessToken: string; refreshToken: string } };
  }
  const deleteMe = (token: string, headers: Record<string, string> = {}) =>
    t.request('DELETE', '/users/me', { token, headers });

  /** The tables (but the abuse counters) with a row whose text contains `needle`. */
  async function tablesContaining(needle: string): Promise<string[]> {
    const { rows } = await t.db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    const found: string[] = [];
    for (const { table_name: table } of rows) {
      if (NOT_ACCOUNT_DATA.has(table)) continue;
      const hits = await count(t, `"${table}" x WHERE row_to_json(x)::text ILIKE $1`, [`%${needle}%`]);
      if (hits > 0) found.push(table);
    }
    return found;
  }

  it('asks for a recent second factor: 401 STEP_UP_REQUIRED, nothing deleted', async () => {
    const { userId, session } = await account(client());
    const aged = await withSecondFactorAged(t, session.refreshToken, 3600);
    const res = await deleteMe(aged.accessToken);
    expectError(res, 401, 'STEP_UP_REQUIRED');
    expect(res.headers.get('www-authenticate')).toContain('max_age=300');
    expect(await count(t, 'users WHERE id = $1', [userId])).toBe(1);
  });

  it('deletes the account and leaves no personal data: no email, number, IP or user agent anywhere', async () => {
    const headers = client();
    const { identity, userId, session } = await account(headers);
    expect(await count(t, 'auth_events WHERE user_id = $1 AND ip IS NOT NULL', [userId])).toBeGreaterThan(0);
    const res = await deleteMe(session.accessToken, headers);
    expect(res.status).toBe(204);

    // Every token of it stops working at once.
    expectError(await t.get('/users/me', session.accessToken), 401, 'UNAUTHENTICATED');
    expectError(
      await t.post('/auth/refresh', { refreshToken: session.refreshToken }),
      401,
      'REFRESH_INVALID',
    );
    for (const table of [
      'users WHERE id = $1',
      'sessions WHERE user_id = $1',
      'trusted_devices WHERE user_id = $1',
      'login_attempts WHERE user_id = $1',
      'second_factor_failures WHERE user_id = $1',
    ]) {
      expect(await count(t, table, [userId])).toBe(0);
    }
    expect(await count(t, 'login_failures WHERE email_hash = $1', [sha256(identity.email)])).toBe(0);
    expect(await tablesContaining(identity.email)).toEqual([]);
    expect(await tablesContaining(identity.phone.slice(3))).toEqual([]);
    expect(await tablesContaining(headers['x-forwarded-for'])).toEqual([]);
    expect(await tablesContaining(headers['user-agent'])).toEqual([]);

    // The login name is unknown now (this attempt is counted like any unknown name's).
    expectError(
      await t.post('/auth/login', { email: identity.email, password: identity.password }),
      401,
      'INVALID_CREDENTIALS',
    );

    // Its audit trail stays under the user id, without IP or user agent, ending with the deletion.
    expect(await count(t, 'auth_events WHERE user_id = $1', [userId])).toBeGreaterThan(3);
    expect(
      await count(t, 'auth_events WHERE user_id = $1 AND (ip IS NOT NULL OR user_agent IS NOT NULL)', [
        userId,
      ]),
    ).toBe(0);
    expect(await count(t, `auth_events WHERE user_id = $1 AND type = 'account_deleted'`, [userId])).toBe(1);
  });

  it('frees the email and the number: a new account may take them', async () => {
    const { identity, session } = await account(client());
    expect((await deleteMe(session.accessToken)).status).toBe(204);
    const again = await account(client(), identity);
    expect((await t.get('/users/me', again.session.accessToken)).body).toMatchObject({
      email: identity.email,
      phone: identity.phone,
      phoneVerified: true,
    });
  });

  it('leaves other accounts alone', async () => {
    const other = await account(client());
    const { session } = await account(client());
    expect((await deleteMe(session.accessToken)).status).toBe(204);
    expect((await t.get('/users/me', other.session.accessToken)).status).toBe(200);
    expect(await count(t, 'trusted_devices WHERE user_id = $1', [other.userId])).toBe(1);
    expect(
      await count(t, 'auth_events WHERE user_id = $1 AND ip IS NOT NULL', [other.userId]),
    ).toBeGreaterThan(0);
  });
});
