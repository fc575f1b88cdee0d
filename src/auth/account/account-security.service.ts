import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { SessionEndReason } from '../sessions/session.entity.js';
import { SessionsService } from '../sessions/sessions.service.js';

/**
 * What a change of credentials does to the account's other ways in: every other session ends (its tokens
 * stop working at once) and every remembered device is forgotten. The caller's own session stays.
 */
@Injectable()
export class AccountSecurity {
  constructor(private readonly sessions: SessionsService) {}

  async credentialsChanged(
    userId: string,
    keepSessionId: string | null,
    reason: SessionEndReason,
    manager?: EntityManager,
  ): Promise<void> {
    await this.sessions.endOthers(userId, keepSessionId, reason, manager);
  }
}
