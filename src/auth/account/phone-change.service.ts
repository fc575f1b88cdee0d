import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { type ClientContext, type FullPrincipal, validationFailed } from '../../common/index.js';
import { type MeResponse, toMe } from '../../users/users.controller.js';
import { UniqueViolation, UsersService } from '../../users/users.service.js';
import { phoneTaken, unauthenticated } from '../auth-errors.js';
import { AuthResponses } from '../auth-responses.js';
import type { ChallengeResponse } from '../dto/auth-responses.js';
import { LoginAttemptsService } from '../second-factor/login-attempts.service.js';
import { AccountSecurity } from './account-security.service.js';

type Challenge = { challenge: ChallengeResponse['challenge'] };

/**
 * A new phone number is a new authenticator (NIST SP 800-63B §4.1.2): asked for with a recent second factor,
 * proven by a PIN sent to the new number, and only then bound. The old number is released (another account
 * may verify it), every other session ends and every remembered device is forgotten.
 */
@Injectable()
export class PhoneChangeService {
  constructor(
    private readonly users: UsersService,
    private readonly attempts: LoginAttemptsService,
    private readonly security: AccountSecurity,
    private readonly responses: AuthResponses,
    private readonly audit: AuditService,
  ) {}

  async start(me: FullPrincipal, phone: string, client: ClientContext): Promise<Challenge> {
    const user = await this.users.findById(me.userId);
    if (!user) throw unauthenticated(true);
    if (phone === user.phone) throw validationFailed('phone: this is already the number of your account');
    if (await this.users.phoneVerifiedElsewhere(phone, user.id)) throw phoneTaken();
    const attempt = await this.attempts.open(user, client, {
      purpose: 'phone_change',
      sessionId: me.sessionId,
      phone,
    });
    await this.audit.record('phone_change_started', client, user.id);
    return { challenge: this.responses.challengeOf(attempt) };
  }

  async resend(me: FullPrincipal, client: ClientContext): Promise<Challenge> {
    const user = await this.users.findById(me.userId);
    if (!user) throw unauthenticated(true);
    const ref = await this.attempts.openOf(me.userId, me.sessionId, 'phone_change');
    return { challenge: this.responses.challengeOf(await this.attempts.resend(user, ref, client)) };
  }

  async verify(me: FullPrincipal, pin: string, client: ClientContext): Promise<MeResponse> {
    const ref = await this.attempts.openOf(me.userId, me.sessionId, 'phone_change');
    let forgotten = 0;
    const user = await this.attempts.verify(ref, pin, client, async (attempt, manager) => {
      if (await this.users.phoneVerifiedElsewhere(attempt.phone, me.userId, manager)) throw phoneTaken();
      try {
        const changed = await this.users.changePhone(me.userId, attempt.phone, manager);
        forgotten = await this.security.credentialsChanged(me.userId, me.sessionId, 'phone_changed', manager);
        return changed;
      } catch (error) {
        if (error instanceof UniqueViolation) throw phoneTaken();
        throw error;
      }
    });
    await this.audit.record('phone_change_completed', client, me.userId);
    await this.security.recordForgotten(client, me.userId, 'phone_changed', forgotten);
    return toMe(user);
  }
}
