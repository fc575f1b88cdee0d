import { createHash } from 'node:crypto';
import type { TestApp } from './test-app.js';

/** Reading a test app's own database (`t.db`) the way the tests check what a request left behind. */

/** SHA-256, as the app keys what it must not store in clear (`login_failures.email_hash`, `token_hash`). */
export const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** `SELECT count(*) FROM <sql>`: `sql` is a table and an optional WHERE clause, e.g. `'users WHERE email = $1'`. */
export async function count(t: TestApp, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return rows[0].n as number;
}

/** The first row of a query, or undefined when there is none. */
export async function row<T = Record<string, any>>(
  t: TestApp,
  sql: string,
  params: unknown[] = [],
): Promise<T | undefined> {
  const { rows } = await t.db.query(sql, params);
  return rows[0] as T | undefined;
}

/** The id of the user with this email (throws if there is none). */
export async function userIdByEmail(t: TestApp, email: string): Promise<string> {
  return (await row<{ id: string }>(t, 'SELECT id FROM users WHERE email = $1', [email]))!.id;
}

export const usersWithEmail = (t: TestApp, email: string) => count(t, 'users WHERE email = $1', [email]);
export const attemptsOf = (t: TestApp, userId: string) =>
  count(t, 'login_attempts WHERE user_id = $1', [userId]);
export const sessionsOf = (t: TestApp, userId: string) => count(t, 'sessions WHERE user_id = $1', [userId]);
/** The `rate_limited` audit events of one limit (one per limit and window, however many requests it refused). */
export const rateLimited = (t: TestApp, limit: string) =>
  count(t, `auth_events WHERE type = 'rate_limited' AND details->>'limit' = $1`, [limit]);
export const eventsOf = (t: TestApp, userId: string, type: string) =>
  count(t, 'auth_events WHERE user_id = $1 AND type = $2', [userId, type]);
