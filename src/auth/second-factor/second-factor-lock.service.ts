import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { ClientContext } from '../../common/index.js';
import { QUARTER_HOUR, RateLimiter } from '../../rate-limit/rate-limiter.service.js';
import { secondFactorLocked } from '../auth-errors.js';
import { PinConfig } from './pin.config.js';
import { SecondFactorFailure } from './second-factor-failure.entity.js';

/**
 * The per-account cap on consecutive wrong PINs (NIST SP 800-63B-4 §3.2.2): new login attempts and resends
 * do not reset it, only a right PIN does. At the limit the second factor is suspended for
 * PIN_LOCKOUT_SECONDS: no PIN is sent or checked, and the right password gets `429 SECOND_FACTOR_LOCKED`.
 * While the count stays at the limit, each further wrong PIN after the suspension starts a new one.
 */
@Injectable()
export class SecondFactorLockService {
  constructor(
    @InjectRepository(SecondFactorFailure) private readonly failures: Repository<SecondFactorFailure>,
    private readonly config: PinConfig,
    private readonly limiter: RateLimiter,
  ) {}

  /**
   * Before every PIN check: a per-account budget over time (PIN_CHECKS_PER_ACCOUNT_15MIN), on top of each
   * attempt's own limit, so new attempts and resends do not multiply guesses. Over it: 429, nothing checked.
   */
  async consumeCheck(userId: string, client: ClientContext): Promise<void> {
    await this.limiter.consume(
      [
        {
          name: 'pin_checks_per_account',
          key: `pin:user:${userId}`,
          limit: this.config.checksPerAccount15Min,
          windowSeconds: QUARTER_HOUR,
        },
      ],
      { client, userId },
    );
  }

  /** @throws 429 SECOND_FACTOR_LOCKED while the account's second factor is suspended. */
  async assertOpen(userId: string, manager: EntityManager = this.failures.manager): Promise<void> {
    const rows: { retry_after: number }[] = await manager.query(
      `SELECT ceil(extract(epoch FROM locked_until - now()))::int AS retry_after
         FROM second_factor_failures WHERE user_id = $1 AND locked_until > now()`,
      [userId],
    );
    if (rows.length) throw secondFactorLocked(Math.max(1, rows[0].retry_after));
  }

  /** Counts one wrong PIN (atomically); true when this one started a suspension. */
  async recordFailure(userId: string, manager: EntityManager): Promise<boolean> {
    const [row]: { locked: boolean }[] = await manager.query(
      `INSERT INTO second_factor_failures AS f (user_id, failures, last_failure_at, locked_until)
       VALUES ($1, 1, now(), CASE WHEN $2::int <= 1 THEN now() + make_interval(secs => $3::int) END)
       ON CONFLICT (user_id) DO UPDATE
         SET failures = f.failures + 1,
             last_failure_at = now(),
             locked_until = CASE WHEN f.failures + 1 >= $2::int THEN now() + make_interval(secs => $3::int)
                                 ELSE f.locked_until END
       RETURNING (locked_until IS NOT NULL AND locked_until > now() AND failures >= $2::int) AS locked`,
      [userId, this.config.consecutiveFailureLimit, this.config.lockoutSeconds],
    );
    return row?.locked ?? false;
  }

  /** A right PIN: the count starts again. */
  async reset(userId: string, manager: EntityManager): Promise<void> {
    await manager.delete(SecondFactorFailure, { userId });
  }
}
