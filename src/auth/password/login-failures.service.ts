import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { type ClientContext, tooManyRequests } from '../../common/index.js';
import { MINUTE } from '../../rate-limit/rate-limiter.service.js';
import { RateLimitRefusals } from '../../rate-limit/rate-limit-refusals.js';
import { LoginConfig } from './login.config.js';

/**
 * Password guessing per login name: growing delays, then a lockout, over `login_failures` (one row per
 * SHA-256 of the normalised email, known or not, so both look alike).
 */
@Injectable()
export class LoginFailuresService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: LoginConfig,
    private readonly refusals: RateLimitRefusals,
  ) {}

  /**
   * Reserves a password attempt for this login name, atomically: refused while the account is locked
   * (`LOGIN_LOCKOUT_THRESHOLD` consecutive failures → `LOGIN_LOCKOUT_SECONDS`) or while its growing delay
   * runs (after `LOGIN_FREE_FAILURES` failures: 1 s, 2 s, 4 s … up to `LOGIN_MAX_DELAY_SECONDS`). The attempt
   * counts as a failure until `succeeded` clears it, so parallel guesses cannot slip in between a
   * check and its record. Unknown names are counted the same way, so the answers do not tell them apart.
   */
  async reserve(email: string, client: ClientContext, userId: string | null): Promise<void> {
    const l = this.config;
    const emailHash = hashName(email);
    const rows: { failures: number }[] = await this.dataSource.query(
      `INSERT INTO login_failures AS f (email_hash, failures, last_attempt_at, locked_until)
       VALUES ($1, 1, now(), NULL)
       ON CONFLICT (email_hash) DO UPDATE
         SET failures = f.failures + 1,
             last_attempt_at = now(),
             locked_until = CASE WHEN $4::int > 0 AND f.failures + 1 >= $4::int
                                 THEN now() + make_interval(secs => $5::int) ELSE NULL END
       WHERE (f.locked_until IS NULL OR f.locked_until <= now())
         AND (f.failures < $2::int
              OR f.last_attempt_at + make_interval(secs => least(power(2, f.failures - $2::int), $3::int)) <= now())
       RETURNING f.failures`,
      [emailHash, l.freeFailures, l.maxDelaySeconds, l.lockoutThreshold, l.lockoutSeconds],
    );
    if (rows.length > 0) return;
    const [state]: { retry_after: number }[] = await this.dataSource.query(
      `SELECT ceil(extract(epoch FROM greatest(
                coalesce(locked_until, now()),
                last_attempt_at + make_interval(secs => least(power(2, greatest(failures - $2::int, 0)), $3::int))
              ) - now()))::int AS retry_after
         FROM login_failures WHERE email_hash = $1`,
      [emailHash, l.freeFailures, l.maxDelaySeconds],
    );
    await this.refusals.record(
      {
        name: 'login_failures_per_account',
        key: `login:name:${emailHash.toString('hex')}`,
        windowSeconds: MINUTE,
      },
      client,
      userId,
    );
    throw tooManyRequests(Math.max(1, state?.retry_after ?? 1), 'Too many failed logins for this account');
  }

  /** A correct password: the consecutive-failure count starts again. */
  succeeded(email: string): Promise<void> {
    return this.forget(email);
  }

  /** Drops the login name's count (a correct password, or the account's deletion). */
  async forget(email: string, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query(`DELETE FROM login_failures WHERE email_hash = $1`, [hashName(email)]);
  }
}

function hashName(email: string): Buffer {
  return createHash('sha256').update(email).digest();
}
