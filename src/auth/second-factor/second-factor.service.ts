import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import type { ClientContext, PartialPrincipal } from '../../common/index.js';
import { UniqueViolation, UsersService } from '../../users/users.service.js';
import { challengeClosed, phoneTaken } from '../auth-errors.js';
import { AuthResponses } from '../auth-responses.js';
import { TrustedDevicesService } from '../devices/trusted-devices.service.js';
import type { ChallengeResponse, SessionResponse } from '../dto/auth-responses.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { FULL_AMR } from '../sessions/tokens.service.js';
import type { AttemptRef } from './attempts.js';
import { LoginAttemptsService } from './login-attempts.service.js';

/** The `/auth/2fa/*` routes: a right PIN turns the partial token's login attempt into a full session. */
@Injectable()
export class SecondFactorService {
  constructor(
    private readonly attempts: LoginAttemptsService,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly devices: TrustedDevicesService,
    private readonly responses: AuthResponses,
    private readonly audit: AuditService,
  ) {}

  /**
   * A right PIN marks the phone verified (the first account to verify a number keeps it) and creates the
   * session, in the transaction that closes the attempt; with `rememberDevice` (and TRUSTED_DEVICE_DAYS > 0)
   * the device is remembered there too and the response carries its token.
   */
  async verify(
    principal: PartialPrincipal,
    pin: string,
    client: ClientContext,
    rememberDevice = false,
  ): Promise<SessionResponse> {
    const { userId } = principal;
    let device: { id: string; token: string } | undefined;
    const session = await this.attempts.verify(
      loginAttempt(principal),
      pin,
      client,
      async (attempt, manager, now) => {
        // The unique index settles a race; this check gives the common case a clean answer (a unique
        // violation aborts the transaction).
        if (await this.users.phoneVerifiedElsewhere(attempt.phone, userId, manager)) throw phoneTaken();
        try {
          await this.users.markPhoneVerified(userId, manager);
        } catch (error) {
          if (error instanceof UniqueViolation) throw phoneTaken();
          throw error;
        }
        if (rememberDevice && this.devices.enabled) {
          device = await this.devices.remember(userId, now, client, manager);
        }
        return this.sessions.create(
          userId,
          { authenticatedAt: now, secondFactorAt: now, amr: FULL_AMR, client, deviceId: device?.id },
          manager,
        );
      },
    );
    if (device) await this.audit.record('device_remembered', client, userId, { device: device.id });
    return this.responses.session(session, device?.token);
  }

  /** Whether the PIN SMS was delivered, how long the PIN lives, when a resend is allowed, attempts left. */
  async status(principal: PartialPrincipal): Promise<ChallengeResponse['challenge']> {
    return this.responses.challengeOf(await this.attempts.status(loginAttempt(principal)));
  }

  async resend(principal: PartialPrincipal, client: ClientContext): Promise<ChallengeResponse> {
    const user = await this.users.findById(principal.userId);
    if (!user) throw challengeClosed();
    // The number may have been verified by another account since this attempt was opened.
    if (!user.phoneVerifiedAt && (await this.users.phoneVerifiedElsewhere(user.phone, user.id))) {
      throw phoneTaken();
    }
    return this.responses.challenge(await this.attempts.resend(user, loginAttempt(principal), client));
  }
}

/** The login attempt a partial token names. */
function loginAttempt(principal: PartialPrincipal): AttemptRef {
  return { userId: principal.userId, attemptId: principal.attemptId, purpose: 'login' };
}
