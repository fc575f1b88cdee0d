import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { purgeRows, RetentionTask } from '../database/retention.js';
import { LoginAttempt } from './second-factor/login-attempt.entity.js';
import { LoginConfig } from './password/login.config.js';

/**
 * Login attempts live at most PARTIAL_TOKEN_TTL_SECONDS, so a day is ample; refresh tokens are kept until
 * they expire (reuse detection needs the spent ones); ended sessions are kept 30 days; registrations whose
 * phone was never verified go a day later (freeing their email and number); password-failure counts below
 * LOGIN_FREE_FAILURES go after an idle day, those that already cost delays after 30 idle days (never while
 * locked), so pausing a day does not reset a guessing campaign; consecutive wrong-PIN counts go after 30 idle
 * days, never while the second factor is suspended; remembered devices go when they expire.
 */
@Injectable()
export class AuthRetention extends RetentionTask {
  constructor(
    @InjectRepository(LoginAttempt) private readonly rows: Repository<LoginAttempt>,
    private readonly login: LoginConfig,
  ) {
    super();
  }

  async purge(): Promise<Record<string, number>> {
    const db = this.rows;
    return {
      login_attempts: await purgeRows(
        db,
        'login_attempts',
        `DELETE FROM login_attempts WHERE expires_at < now() - interval '1 day'`,
      ),
      refresh_tokens: await purgeRows(
        db,
        'refresh_tokens',
        `DELETE FROM refresh_tokens WHERE expires_at < now()`,
      ),
      sessions: await purgeRows(
        db,
        'sessions',
        `DELETE FROM sessions s
          WHERE s.revoked_at < now() - interval '30 days'
             OR (s.created_at < now() - interval '1 day'
                 AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id))`,
      ),
      users: await purgeRows(
        db,
        'users',
        `DELETE FROM users u
          WHERE u.phone_verified_at IS NULL AND u.created_at < now() - interval '1 day'
            AND NOT EXISTS (SELECT 1 FROM login_attempts a WHERE a.user_id = u.id AND a.expires_at > now())`,
      ),
      login_failures: await purgeRows(
        db,
        'login_failures',
        `DELETE FROM login_failures
          WHERE (locked_until IS NULL OR locked_until < now())
            AND (last_attempt_at < now() - interval '30 days'
                 OR (failures < $1::int AND last_attempt_at < now() - interval '1 day'))`,
        [this.login.freeFailures],
      ),
      trusted_devices: await purgeRows(
        db,
        'trusted_devices',
        `DELETE FROM trusted_devices WHERE expires_at < now()`,
      ),
      second_factor_failures: await purgeRows(
        db,
        'second_factor_failures',
        `DELETE FROM second_factor_failures
          WHERE (locked_until IS NULL OR locked_until < now()) AND last_failure_at < now() - interval '30 days'`,
      ),
    };
  }
}
