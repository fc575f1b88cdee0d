import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RetentionService } from '../src/database/retention.service.js';
import { claimsOf } from './support/auth-api.js';
import { count } from './support/db.js';
import { registerAndVerify, startTestApp, TestApp } from './support/test-app.js';

describe('data retention', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { AUDIT_RETENTION_DAYS: '30', LOGIN_FREE_FAILURES: '5' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('deletes only what has outlived its purpose, and a live session keeps working', async () => {
    const old = await registerAndVerify(t);
    const live = await registerAndVerify(t);
    const oldUser = (await t.get('/users/me', old.session.accessToken)).body.id as string;
    // Age everything of the first user past its retention; leave the second user's rows alone.
    await t.db.query(`UPDATE login_attempts SET expires_at = now() - interval '2 days' WHERE user_id = $1`, [
      oldUser,
    ]);
    await t.db.query(
      `UPDATE refresh_tokens SET expires_at = now() - interval '1 second'
        WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1)`,
      [oldUser],
    );
    await t.db.query(`UPDATE sessions SET created_at = now() - interval '2 days' WHERE user_id = $1`, [
      oldUser,
    ]);
    await t.db.query(`UPDATE auth_events SET created_at = now() - interval '31 days' WHERE user_id = $1`, [
      oldUser,
    ]);
    const before = { attempts: await count(t, 'login_attempts'), events: await count(t, 'auth_events') };

    const removed = await t.app.get(RetentionService).run();

    expect(removed).toMatchObject({ login_attempts: 1, refresh_tokens: 1, sessions: 1 });
    expect(removed.auth_events).toBeGreaterThan(0);
    expect(await count(t, 'login_attempts')).toBe(before.attempts - 1);
    expect(await count(t, 'auth_events')).toBe(before.events - removed.auth_events);
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM auth_events WHERE user_id = $1`, [
      oldUser,
    ]);
    expect(rows[0].n).toBe(0);
    expect((await t.get('/users/me', live.session.accessToken)).status).toBe(200);
    expect((await t.post('/auth/refresh', { refreshToken: live.session.refreshToken })).status).toBe(200);
  });

  it('frees the email and number of an account that never verified its phone, a day after registering', async () => {
    const unverified = await t.post('/auth/register', {
      email: 'never-verified@example.com',
      password: 'correct horse battery staple',
      phone: '+819077776666',
    });
    expect(unverified.status).toBe(201);
    const token = unverified.body.accessToken as string;
    const id = claimsOf(token).userId;
    await t.db.query(`UPDATE users SET created_at = now() - interval '2 days' WHERE id = $1`, [id]);
    await t.app.get(RetentionService).run();
    expect((await t.db.query('SELECT 1 FROM users WHERE id = $1', [id])).rows).toHaveLength(1); // attempt still open
    await t.db.query(
      `UPDATE login_attempts SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
      [id],
    );
    const removed = await t.app.get(RetentionService).run();
    expect(removed.users).toBe(1);
    const again = await t.post('/auth/register', {
      email: 'never-verified@example.com',
      password: 'another horse battery staple',
      phone: '+819077776665',
    });
    expect(again.status).toBe(201);
  });

  it('forgets small password-failure counts after an idle day, but keeps counts that cost delays 30 days', async () => {
    const rows = [
      ['small, idle 2 days', 2, '2 days', false],
      ['delayed, idle 2 days', 40, '2 days', true],
      ['delayed, idle 31 days', 40, '31 days', false],
      ['small, idle 1 hour', 1, '1 hour', true],
    ] as const;
    for (const [name, failures, idle] of rows) {
      await t.db.query(
        `INSERT INTO login_failures (email_hash, failures, last_attempt_at)
         VALUES (sha256($1::bytea), $2, now() - $3::interval)`,
        [name, failures, idle],
      );
    }
    await t.app.get(RetentionService).run();
    for (const [name, , , kept] of rows) {
      const { rows: left } = await t.db.query(
        `SELECT 1 FROM login_failures WHERE email_hash = sha256($1::bytea)`,
        [name],
      );
      expect([name, left.length]).toEqual([name, kept ? 1 : 0]);
    }
  });
});
