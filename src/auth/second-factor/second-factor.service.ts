import { Injectable } from '@nestjs/common';
import type { ClientContext, PartialPrincipal } from '../../common/index.js';
import { QUARTER_HOUR, RateLimiter } from '../../rate-limit/rate-limiter.service.js';
import { UniqueViolation, UsersService } from '../../users/users.service.js';
import { challengeClosed, phoneTaken } from '../auth-errors.js';
import { AuthResponses } from '../auth-responses.js';
import type { ChallengeResponse, SessionResponse } from '../dto/auth-responses.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { FULL_AMR } from '../sessions/tokens.service.js';
import { LoginAttemptsService } from './login-attempts.service.js';
import { PinConfig } from './pin.config.js';

/** The `/auth/2fa/*` routes: a right PIN turns the partial token's login attempt into a full session. */
@Injectable()
export class SecondFactorService {
  constructor(
    private readonly attempts: LoginAttemptsService,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly limiter: RateLimiter,
    private readonly config: PinConfig,
    private readonly responses: AuthResponses,
  ) {}

  /**
   * The PIN check: first a per-account budget over time (on top of the attempt's own limit, so new logins
   * and resends do not multiply guesses), then the attempt's state machine. A right PIN marks the phone
   * verified (the first account to verify a number keeps it) and creates the session, in the transaction
   * that closes the attempt.
   */
  async verify(principal: PartialPrincipal, pin: string, client: ClientContext): Promise<SessionResponse> {
    const { userId, attemptId } = principal;
    await this.limiter.consume(
      [
        {
          name: 'pin_checks_per_account',
          key: `pin:user:${userId}`,
          limit: this.config.checksPerAccount15Min,
          windowSeconds: QUARTER_HOUR,
        },
      ],
      { client, userId },
    );
    const session = await this.attempts.verify(
      userId,
      attemptId,
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
        return this.sessions.create(
          userId,
          { authenticatedAt: now, secondFactorAt: now, amr: FULL_AMR },
          manager,
        );
      },
    );
    return this.responses.session(session);
  }

  /** Whether the PIN SMS was delivered, how long the PIN lives, when a resend is allowed, attempts left. */
  async status(principal: PartialPrincipal): Promise<ChallengeResponse['challenge']> {
    return this.responses.challengeOf(await this.attempts.status(principal.userId, principal.attemptId));
  }

  async resend(principal: PartialPrincipal, client: ClientContext): Promise<ChallengeResponse> {
    const user = await this.users.findById(principal.userId);
    if (!user) throw challengeClosed();
    return this.responses.challenge(await this.attempts.resend(user, principal.attemptId, client));
  }
}
