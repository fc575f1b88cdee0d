import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { ApiException, type ClientContext, type FullPrincipal } from '../../common/index.js';
import { UsersService } from '../../users/users.service.js';
import { unauthenticated } from '../auth-errors.js';
import { AuthResponses } from '../auth-responses.js';
import { TrustedDevicesService } from '../devices/trusted-devices.service.js';
import type { ChallengeResponse, SessionResponse } from '../dto/auth-responses.js';
import { LoginAttemptsService } from '../second-factor/login-attempts.service.js';
import { SessionsService } from '../sessions/sessions.service.js';

/**
 * Step-up: a session proves its second factor again (a PIN to the account's phone) before a sensitive
 * action. The PIN rules are the login's (attempt budget, expiry, single use, cooldown, the account's
 * guessing limits, SMS limits); a step-up PIN works only for its session's step-up, never for a login.
 */
@Injectable()
export class StepUpService {
  constructor(
    private readonly attempts: LoginAttemptsService,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly devices: TrustedDevicesService,
    private readonly responses: AuthResponses,
    private readonly audit: AuditService,
  ) {}

  async start(
    me: FullPrincipal,
    client: ClientContext,
  ): Promise<{ challenge: ChallengeResponse['challenge'] }> {
    const user = await this.users.findById(me.userId);
    if (!user) throw unauthenticated(true);
    const attempt = await this.attempts.open(user, client, { purpose: 'step_up', sessionId: me.sessionId });
    await this.audit.record('step_up_sent', client, me.userId);
    return { challenge: this.responses.challengeOf(attempt) };
  }

  async resend(
    me: FullPrincipal,
    client: ClientContext,
  ): Promise<{ challenge: ChallengeResponse['challenge'] }> {
    const user = await this.users.findById(me.userId);
    if (!user) throw unauthenticated(true);
    const ref = await this.attempts.openOf(me.userId, me.sessionId, 'step_up');
    const attempt = await this.attempts.resend(user, ref, client);
    await this.audit.record('step_up_sent', client, me.userId, { resend: 'true' });
    return { challenge: this.responses.challengeOf(attempt) };
  }

  /** A right PIN: the same session, with a fresh second factor (and `auth_time`) in its new tokens. */
  async verify(me: FullPrincipal, pin: string, client: ClientContext): Promise<SessionResponse> {
    const ref = await this.attempts.openOf(me.userId, me.sessionId, 'step_up');
    try {
      const session = await this.attempts.verify(ref, pin, client, async (_attempt, manager, now) => {
        const stepped = await this.sessions.stepUp(me.sessionId, me.userId, now, manager);
        if (!stepped) throw unauthenticated(true);
        if (stepped.deviceId) await this.devices.secondFactorProven(stepped.deviceId, now, manager);
        return stepped;
      });
      await this.audit.record('step_up_verified', client, me.userId);
      return await this.responses.session(session);
    } catch (error) {
      if (error instanceof ApiException) {
        await this.audit.record('step_up_failed', client, me.userId, { reason: error.code });
      }
      throw error;
    }
  }
}
