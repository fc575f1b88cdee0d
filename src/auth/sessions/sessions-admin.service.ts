import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { type ClientContext, type FullPrincipal, notFound } from '../../common/index.js';
import { TrustedDevicesService } from '../devices/trusted-devices.service.js';
import { type LiveSession, SessionsService } from './sessions.service.js';

/** What a user does with their own sessions: list them, end one, end all the others. Audited. */
@Injectable()
export class SessionsAdminService {
  constructor(
    private readonly sessions: SessionsService,
    private readonly devices: TrustedDevicesService,
    private readonly audit: AuditService,
  ) {}

  list(userId: string): Promise<LiveSession[]> {
    return this.sessions.live(userId);
  }

  /** @throws 404 NOT_FOUND when `sessionId` is not one of the caller's live sessions. */
  async end(me: FullPrincipal, sessionId: string, client: ClientContext): Promise<void> {
    if (!(await this.sessions.end(me.userId, sessionId, 'revoked'))) {
      throw notFound('No such session');
    }
    await this.audit.record('session_revoked', client, me.userId, { session: sessionId });
  }

  /** Every other session ends and every remembered device (this one's too) is forgotten. */
  async endOthers(me: FullPrincipal, client: ClientContext): Promise<void> {
    const ended = await this.sessions.endOthers(me.userId, me.sessionId, 'others_ended');
    const forgotten = await this.devices.forgetAll(me.userId);
    await this.audit.record('sessions_revoked', client, me.userId, { ended });
    await this.devices.recordForgotten(client, me.userId, 'others_ended', forgotten);
  }
}
