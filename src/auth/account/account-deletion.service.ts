import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import type { FullPrincipal } from '../../common/index.js';
import { UsersService } from '../../users/users.service.js';
import { unauthenticated } from '../auth-errors.js';
import { LoginFailuresService } from '../password/login-failures.service.js';

/**
 * `DELETE /users/me`: the account and everything that names it go in one transaction (sessions, refresh
 * tokens, devices, login attempts, failure counts); its email and number are free again. Its audit events
 * stay for AUDIT_RETENTION_DAYS under the user id, without IP or user agent.
 */
@Injectable()
export class AccountDeletionService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly failures: LoginFailuresService,
    private readonly audit: AuditService,
  ) {}

  async delete(me: FullPrincipal): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const user = await this.users.delete(me.userId, manager);
      if (!user) throw unauthenticated(true);
      await this.failures.forget(user.email, manager);
      await this.audit.anonymise(me.userId, manager);
    });
    await this.audit.record('account_deleted', null, me.userId);
  }
}
