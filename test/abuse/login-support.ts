import { WRONG_PASSWORD } from '../support/auth-api.js';
import { row, sha256 } from '../support/db.js';
import type { HttpResult, TestApp } from '../support/test-app.js';

/**
 * Helpers of the password-attempt tests (growing delays, lockout, per IP): the per-login-name failure count
 * (`login_failures`, keyed by the email's hash) and bursts of parallel logins.
 */

export async function failuresRow(
  t: TestApp,
  email: string,
): Promise<{ failures: number; last_attempt_at: Date; locked_until: Date | null } | undefined> {
  return row<{ failures: number; last_attempt_at: Date; locked_until: Date | null }>(
    t,
    'SELECT failures, last_attempt_at, locked_until FROM login_failures WHERE email_hash = $1',
    [sha256(email)],
  );
}

/** Plays time forward for the growing delay: the last counted attempt happened an hour ago. */
export async function rewindLastAttempt(t: TestApp, email: string): Promise<void> {
  await t.db.query(
    `UPDATE login_failures SET last_attempt_at = last_attempt_at - interval '1 hour' WHERE email_hash = $1`,
    [sha256(email)],
  );
}

/**
 * A login that gives up after `ms`: a request the server never answers must fail the test, not hang it
 * (and must not keep the server from closing). Unanswered requests come back as status 0, code NO_ANSWER.
 */
export async function boundedLogin(
  t: TestApp,
  email: string,
  password: string,
  ms = 5000,
): Promise<HttpResult> {
  try {
    const response = await fetch(`${t.url.replace('[::1]', '127.0.0.1')}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
      signal: AbortSignal.timeout(ms),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  } catch (error) {
    if ((error as Error).name !== 'TimeoutError') throw error;
    return { status: 0, body: { code: 'NO_ANSWER' }, headers: new Headers() };
  }
}

/** 10 wrong passwords for one login name at the same moment. */
export const burst = (t: TestApp, email: string) =>
  Promise.all(Array.from({ length: 10 }, () => boundedLogin(t, email, WRONG_PASSWORD)));

export function tally(results: HttpResult[]): {
  invalid: number;
  tooMany: number;
  noAnswer: number;
  other: number;
} {
  const invalid = results.filter((r) => r.status === 401 && r.body?.code === 'INVALID_CREDENTIALS').length;
  const tooMany = results.filter((r) => r.status === 429 && r.body?.code === 'TOO_MANY_REQUESTS').length;
  const noAnswer = results.filter((r) => r.status === 0).length;
  return { invalid, tooMany, noAnswer, other: results.length - invalid - tooMany - noAnswer };
}

/** status, code and retryAfter of a sequence of answers: what a caller can observe. */
export const observed = (results: HttpResult[]) =>
  results.map((r) => ({
    status: r.status,
    code: r.body?.code as string | undefined,
    message: r.body?.message as unknown,
    retryAfter: r.headers.get('retry-after'),
  }));
