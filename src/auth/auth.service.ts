import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiException } from '../common/api.exception.js';
import { ErrorCode } from '../common/error-codes.js';
import { AppConfig } from '../config/app-config.js';
import { maskPhone } from '../users/phone.js';
import type { User } from '../users/user.entity.js';
import { UniqueViolation, UsersService } from '../users/users.service.js';
import type { PartialPrincipal } from './auth-principal.js';
import type { ChallengeResponse, SessionResponse } from './dto/auth-responses.js';
import type { RegisterDto } from './dto/register.dto.js';
import { LoginAttemptsService, OpenAttempt, phoneTaken } from './login-attempts.service.js';
import { PasswordService } from './password.service.js';
import { IssuedSession, SessionsService } from './sessions.service.js';
import { TokensService } from './tokens.service.js';

/** The login flow: password → partial token + SMS PIN → full session. Controllers only call this. */
@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly attempts: LoginAttemptsService,
    private readonly sessions: SessionsService,
    private readonly tokens: TokensService,
  ) {}

  /**
   * Creates the account and sends the first PIN in one transaction: if the SMS cannot be sent, the account
   * is not created either, so the client can simply retry.
   */
  async register(dto: RegisterDto): Promise<ChallengeResponse> {
    const passwordHash = await this.passwords.hash(dto.password);
    const attempt = await this.dataSource.transaction(async (manager) => {
      if (await this.users.phoneVerifiedElsewhere(dto.phone, undefined, manager)) throw phoneTaken();
      const user = await this.users
        .create({ email: dto.email, passwordHash, phone: dto.phone }, manager)
        .catch((error: unknown) => {
          if (error instanceof UniqueViolation) {
            throw new ApiException(
              HttpStatus.CONFLICT,
              ErrorCode.EMAIL_TAKEN,
              'An account with this email already exists',
            );
          }
          throw error;
        });
      return this.attempts.open(user, manager);
    });
    return this.challengeResponse(attempt);
  }

  /** passport-local's check. `undefined` for an unknown email or a wrong password, in about the same time. */
  async checkPassword(email: string, password: string): Promise<User | undefined> {
    const user = await this.users.findByEmail(email);
    const ok = await this.passwords.verify(user?.passwordHash, password);
    return ok && user ? user : undefined;
  }

  async login(user: User): Promise<ChallengeResponse> {
    return this.challengeResponse(await this.attempts.open(user));
  }

  async resendPin(principal: PartialPrincipal): Promise<ChallengeResponse> {
    return this.challengeResponse(await this.attempts.resend(principal.userId, principal.attemptId));
  }

  async verifyPin(principal: PartialPrincipal, pin: string): Promise<SessionResponse> {
    return this.sessionResponse(await this.attempts.verify(principal.userId, principal.attemptId, pin));
  }

  async refresh(refreshToken: string): Promise<SessionResponse> {
    return this.sessionResponse(await this.sessions.rotate(refreshToken));
  }

  /** Ends the caller's session, and the session of `refreshToken` too when it is one of the caller's. */
  async logout(userId: string, sessionId: string, refreshToken?: string): Promise<void> {
    await this.sessions.revoke(sessionId, userId);
    const other = refreshToken ? await this.sessions.sessionOfRefreshToken(refreshToken, userId) : undefined;
    if (other && other !== sessionId) await this.sessions.revoke(other, userId);
  }

  private async challengeResponse(attempt: OpenAttempt): Promise<ChallengeResponse> {
    const now = Date.now();
    const seconds = (at: Date) => Math.max(0, Math.ceil((at.getTime() - now) / 1000));
    return {
      accessToken: await this.tokens.signPartial(attempt.userId, attempt.id, attempt.expiresAt),
      tokenType: 'Bearer',
      expiresIn: seconds(attempt.expiresAt),
      authLevel: 'partial',
      challenge: {
        channel: 'sms',
        to: maskPhone(attempt.phone),
        expiresIn: seconds(attempt.pinExpiresAt),
        resendIn: seconds(attempt.resendAt),
      },
    };
  }

  private async sessionResponse(session: IssuedSession): Promise<SessionResponse> {
    return {
      accessToken: await this.tokens.signAccess(session.userId, session.sessionId, session.authenticatedAt),
      refreshToken: session.refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.config.jwt.accessTokenTtlSeconds,
      authLevel: 'full',
    };
  }
}
