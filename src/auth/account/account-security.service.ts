import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ClientContext } from '../../common/index.js';
import { TrustedDevicesService } from '../devices/trusted-devices.service.js';
import type { SessionEndReason } from '../sessions/session.entity.js';
import { SessionsService } from '../sessions/sessions.service.js';

/**
 * What a change of credentials does to the account's other ways in: every other session ends (its tokens
 * stop working at once) and every remembered device is forgotten. The caller's own session stays.
 */
@Injectable()
export class AccountSecurity {
  constructor(
    private readonly sessions: SessionsService,
    private readonly devices: TrustedDevicesService,
  ) {}

  /** Inside the change's transaction when there is one; returns how many devices were forgotten. */
  async credentialsChanged(
    userId: string,
    keepSessionId: string | null,
    reason: SessionEndReason,
    manager?: EntityManager,
  ): Promise<number> {
    await this.sessions.endOthers(userId, keepSessionId, reason, manager);
    return this.devices.forgetAll(userId, manager);
  }

  /** The audit line for the devices `credentialsChanged` forgot, once it has committed. */
  recordForgotten(client: ClientContext, userId: string, reason: SessionEndReason, count: number) {
    return this.devices.recordForgotten(client, userId, reason, count);
  }
}
