import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type Env, int, optionalString } from '../../config/index.js';

const MIN_SECRET_LENGTH = 32;

/**
 * Tokens and sessions. `JWT_SECRET` is the root of every key (`ServerKeys`, in common: Auth's keys and any
 * other module's); this is the one place it is read. Without it (outside production) a random secret is
 * made for this process, and `secretGenerated` says so.
 */
export function loadJwtConfig(env: Env, generateSecret: () => string = () => randomUUID() + randomUUID()) {
  const secret = env.read('JWT_SECRET', optionalString);
  if (env.production && !secret) env.problem('JWT_SECRET', 'required when NODE_ENV=production');
  if (secret && secret.length < MIN_SECRET_LENGTH) {
    env.problem('JWT_SECRET', `must be at least ${MIN_SECRET_LENGTH} characters`);
  } else if (secret && isWeakSecret(secret)) {
    env.problem(
      'JWT_SECRET',
      'too easy to guess (fewer than 8 distinct characters, or one short pattern repeated); ' +
        'use e.g. the output of `openssl rand -hex 32`',
    );
  }
  const refreshReuseGraceSeconds = env.read('REFRESH_REUSE_GRACE_SECONDS', int(5, 0, 60));
  env.unsafe(
    'REFRESH_REUSE_GRACE_SECONDS',
    refreshReuseGraceSeconds > 10,
    'over 10 s gives a stolen refresh token a long window',
  );
  return {
    secret: secret ?? generateSecret(),
    /** True when no JWT_SECRET was set and a random one was made for this process (dev/test only). */
    secretGenerated: !secret,
    issuer: env.read('JWT_ISSUER', z.string().trim().min(1).default('xoxzo-2fa-auth')),
    audience: env.read('JWT_AUDIENCE', z.string().trim().min(1).default('api')),
    /** The partial token's lifetime, which is also its login attempt's. */
    partialTokenTtlSeconds: env.read('PARTIAL_TOKEN_TTL_SECONDS', int(600, 60, 3600)),
    accessTokenTtlSeconds: env.read('ACCESS_TOKEN_TTL_SECONDS', int(900, 60, 86400)),
    refreshTokenTtlSeconds: env.read('REFRESH_TOKEN_TTL_SECONDS', int(2592000, 300, 31536000)),
    /**
     * A refresh token presented again less than this long after it was spent gets the same successor back
     * (a client racing itself); later, or always with 0, it is reuse and revokes the session.
     */
    refreshReuseGraceSeconds,
    /** A session ends this long after it started (its login), however often it is refreshed or stepped up. */
    sessionMaxSeconds: env.read('SESSION_MAX_SECONDS', int(7776000, 300, 31536000)),
  };
}

export abstract class JwtConfig {}
export interface JwtConfig extends ReturnType<typeof loadJwtConfig> {}

/**
 * A secret an attacker would try early: few distinct characters (`aaaa…`, `abab…`), or a short pattern
 * repeated (`abcdefgh` × 4). Random secrets (`openssl rand -hex 32`, `-base64 48`) never are.
 */
export function isWeakSecret(secret: string): boolean {
  if (new Set(secret).size < 8) return true;
  for (let period = 1; period <= secret.length / 2; period++) {
    if (secret.length % period === 0 && secret.slice(0, period).repeat(secret.length / period) === secret) {
      return true;
    }
  }
  return false;
}
