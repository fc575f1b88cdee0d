import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, Repository } from 'typeorm';
import type { ClientContext } from '../common/index.js';
import { AuthEvent, AuthEventType } from './auth-event.entity.js';

/** Writes the audit trail. A failure to write is logged, never turned into a failed login. */
@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(@InjectRepository(AuthEvent) private readonly events: Repository<AuthEvent>) {}

  /** `client` null: recorded without IP and user agent (the event of a deleted account). */
  async record(
    type: AuthEventType,
    client: ClientContext | null,
    userId: string | null,
    details: AuthEvent['details'] = null,
  ): Promise<void> {
    try {
      await this.events.insert({
        id: randomUUID(),
        type,
        userId,
        ip: client?.ip.slice(0, 45) ?? null,
        userAgent: client?.userAgent?.slice(0, 256) ?? null,
        details,
      });
    } catch (error) {
      this.logger.error(`Could not record ${type} event: ${String(error)}`);
    }
  }

  /**
   * A deleted account's events stay (for AUDIT_RETENTION_DAYS) under its user id, without personal data:
   * IP and user agent dropped.
   */
  async anonymise(userId: string, manager: EntityManager): Promise<void> {
    await manager.update(AuthEvent, { userId }, { ip: null, userAgent: null });
  }

  /** The newest events of one user, newest first. */
  recent(userId: string, limit: number): Promise<AuthEvent[]> {
    return this.events.find({ where: { userId }, order: { createdAt: 'DESC' }, take: limit });
  }
}
