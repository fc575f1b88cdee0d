import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { purgeRows, RetentionTask } from '../database/retention.js';
import { AuthEvent } from './auth-event.entity.js';
import { AuditConfig } from './audit.config.js';

/** The audit trail is kept AUDIT_RETENTION_DAYS. */
@Injectable()
export class AuditRetention extends RetentionTask {
  constructor(
    @InjectRepository(AuthEvent) private readonly rows: Repository<AuthEvent>,
    private readonly config: AuditConfig,
  ) {
    super();
  }

  async purge(): Promise<Record<string, number>> {
    return {
      auth_events: await purgeRows(
        this.rows,
        'auth_events',
        `DELETE FROM auth_events WHERE created_at < now() - make_interval(days => $1::int)`,
        [this.config.retentionDays],
      ),
    };
  }
}
