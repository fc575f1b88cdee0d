import type { TestApp } from './test-app.js';

/**
 * A fresh access token for a session whose second factor was proven `secondsAgo` ago: the session row is
 * aged, then refreshed (access tokens carry the session's second-factor time). Returns the new pair.
 */
export async function withSecondFactorAged(
  t: TestApp,
  refreshToken: string,
  secondsAgo: number,
): Promise<{ accessToken: string; refreshToken: string }> {
  await t.db.query(
    `UPDATE sessions SET second_factor_at = now() - make_interval(secs => $2::int)
      WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = sha256($1::bytea))`,
    [Buffer.from(refreshToken), secondsAgo],
  );
  const res = await t.post('/auth/refresh', { refreshToken });
  if (res.status !== 200) throw new Error(`refresh failed: ${JSON.stringify(res.body)}`);
  return res.body as { accessToken: string; refreshToken: string };
}

/** A step-up on the session of `accessToken`: returns its new pair (second factor: now). */
export async function stepUp(t: TestApp, accessToken: string, phone: string) {
  const started = await t.post('/auth/step-up', undefined, accessToken);
  if (started.status !== 200) throw new Error(`step-up failed: ${JSON.stringify(started.body)}`);
  const res = await t.post('/auth/step-up/verify', { pin: t.xoxzo.lastPinFor(phone) }, accessToken);
  if (res.status !== 200) throw new Error(`step-up verify failed: ${JSON.stringify(res.body)}`);
  return res.body as { accessToken: string; refreshToken: string };
}
