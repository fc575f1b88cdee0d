import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditConfig } from '../audit/audit.config.js';
import { LoginConfig } from '../auth/password/login.config.js';

const INTERVAL_MS = 10 * 60 * 1000;

/**
 * Deletes what no rule needs any more, every ten minutes (every instance may run it: the deletes are
 * idempotent).
 * Login attempts live at most PARTIAL_TOKEN_TTL_SECONDS, so a day is ample; refresh tokens are kept until
 * they expire (reuse detection needs the spent ones); ended sessions are kept 30 days; accounts that never
 * verified their phone a day; SMS records 90 days;
 * the audit trail AUDIT_RETENTION_DAYS; rate-limit counters when their window ends.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RetentionService.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly login: LoginConfig,
    private readonly audit: AuditConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.run(), INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One pass; returns how many rows each statement removed. Never throws. */
  async run(): Promise<Record<string, number>> {
    const statements: Record<string, [string, unknown[]]> = {
      login_attempts: [`DELETE FROM login_attempts WHERE expires_at < now() - interval '1 day'`, []],
      refresh_tokens: [`DELETE FROM refresh_tokens WHERE expires_at < now()`, []],
      sessions: [
        `DELETE FROM sessions s
          WHERE s.revoked_at < now() - interval '30 days'
             OR (s.created_at < now() - interval '1 day'
                 AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id))`,
        [],
      ],
      // Accounts whose phone was never verified, a day after registering and with no login attempt left:
      // nobody owns them, and their email and number become free again.
      users: [
        `DELETE FROM users u
          WHERE u.phone_verified_at IS NULL AND u.created_at < now() - interval '1 day'
            AND NOT EXISTS (SELECT 1 FROM login_attempts a WHERE a.user_id = u.id AND a.expires_at > now())`,
        [],
      ],
      sms_messages: [`DELETE FROM sms_messages WHERE created_at < now() - interval '90 days'`, []],
      rate_limit_counters: [`DELETE FROM rate_limit_counters WHERE expires_at < now()`, []],
      // Counts below LOGIN_FREE_FAILURES go after an idle day; counts that already cost delays are kept 30
      // idle days (never while locked), so pausing a day does not reset a guessing campaign.
      login_failures: [
        `DELETE FROM login_failures
          WHERE (locked_until IS NULL OR locked_until < now())
            AND (last_attempt_at < now() - interval '30 days'
                 OR (failures < $1::int AND last_attempt_at < now() - interval '1 day'))`,
        [this.login.freeFailures],
      ],
      auth_events: [
        `DELETE FROM auth_events WHERE created_at < now() - make_interval(days => $1::int)`,
        [this.audit.retentionDays],
      ],
    };
    const removed: Record<string, number> = {};
    for (const [table, [sql, params]] of Object.entries(statements)) {
      try {
        const [, count] = await this.dataSource.query<[unknown, number]>(sql, params);
        removed[table] = count;
      } catch (error) {
        this.logger.warn(`Retention of ${table} failed: ${String(error)}`);
      }
    }
    return removed;
  }
}
