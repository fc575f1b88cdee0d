import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { ApiException, type ClientContext, ErrorCode, type FullPrincipal } from '../common/index.js';
import type { User } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { phoneTaken } from './auth-errors.js';
import { AuthResponses } from './auth-responses.js';
import type { ChallengeResponse, SessionResponse } from './dto/auth-responses.js';
import { LoginAttemptsService } from './second-factor/login-attempts.service.js';
import { RefreshRotationService } from './sessions/refresh-rotation.service.js';
import { SessionsService } from './sessions/sessions.service.js';

/** The step after the password, refresh and logout. Controllers only call this. */
@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly attempts: LoginAttemptsService,
    private readonly sessions: SessionsService,
    private readonly rotation: RefreshRotationService,
    private readonly responses: AuthResponses,
    private readonly audit: AuditService,
  ) {}

  /**
   * After a right password: a login attempt and its PIN, unless another account has verified the number,
   * or the account's second factor is suspended (429 SECOND_FACTOR_LOCKED, no SMS).
   */
  async login(user: User, client: ClientContext): Promise<ChallengeResponse> {
    if (!user.phoneVerifiedAt && (await this.users.phoneVerifiedElsewhere(user.phone, user.id))) {
      throw phoneTaken();
    }
    try {
      return await this.responses.challenge(await this.attempts.open(user, client));
    } catch (error) {
      if (error instanceof ApiException && error.code === ErrorCode.SECOND_FACTOR_LOCKED) {
        await this.audit.record('login_blocked', client, user.id, { reason: error.code });
      }
      throw error;
    }
  }

  async refresh(refreshToken: string, client: ClientContext): Promise<SessionResponse> {
    return this.responses.session(await this.rotation.rotate(refreshToken, client));
  }

  /** Ends the caller's session, and the session of `refreshToken` too when it is one of the caller's. */
  async logout(principal: FullPrincipal, client: ClientContext, refreshToken?: string): Promise<void> {
    const { userId, sessionId } = principal;
    await this.sessions.revoke(sessionId, userId);
    const other = refreshToken ? await this.sessions.sessionOfRefreshToken(refreshToken, userId) : undefined;
    if (other && other !== sessionId) await this.sessions.revoke(other, userId);
    await this.audit.record('logout', client, userId);
  }
}
