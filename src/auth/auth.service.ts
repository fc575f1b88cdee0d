import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import {
  ApiException,
  type ClientContext,
  ErrorCode,
  type FullPrincipal,
  type PartialPrincipal,
} from '../common/index.js';
import { RateLimitsService } from '../rate-limit/rate-limits.service.js';
import { maskPhone } from '../phone/phone.js';
import type { User } from '../users/user.entity.js';
import { UniqueViolation, UsersService } from '../users/users.service.js';
import type { ChallengeResponse, SessionResponse } from './dto/auth-responses.js';
import type { RegisterDto } from './dto/register.dto.js';
import { LoginAttemptsService, OpenAttempt, phoneTaken } from './second-factor/login-attempts.service.js';
import { localeFromAcceptLanguage, pinSmsLocale } from './second-factor/pin-message.js';
import { PasswordService } from './password/password.service.js';
import { JwtConfig } from './sessions/jwt.config.js';
import { IssuedSession, SessionsService } from './sessions/sessions.service.js';
import { TokensService } from './sessions/tokens.service.js';

/** The login flow: password → partial token + SMS PIN → full session. Controllers only call this. */
@Injectable()
export class AuthService {
  constructor(
    private readonly jwt: JwtConfig,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly attempts: LoginAttemptsService,
    private readonly sessions: SessionsService,
    private readonly tokens: TokensService,
    private readonly limits: RateLimitsService,
    private readonly audit: AuditService,
  ) {}

  /**
   * Creates the account and sends the first PIN. If the SMS cannot be sent (or a limit refuses it), the new
   * account is removed again, so the client can simply retry.
   */
  async register(
    dto: RegisterDto,
    client: ClientContext,
    acceptLanguage?: string,
  ): Promise<ChallengeResponse> {
    // The SMS budget (phone, IP, global…) is taken first, and kept when the registration is refused: probing
    // which emails or phones exist costs the same budget as sending SMS, and a refused registration costs no
    // password hash and leaves no row behind.
    const id = randomUUID();
    const allowance = await this.limits.consumeSms({
      phone: dto.phone,
      userId: id,
      client,
      newAccount: true,
    });
    if (await this.users.findByEmail(dto.email)) throw emailTaken();
    if (await this.users.phoneVerifiedElsewhere(dto.phone)) throw phoneTaken();
    let user: User;
    try {
      user = await this.users.create({
        id,
        email: dto.email,
        passwordHash: await this.passwords.hash(dto.password),
        phone: dto.phone,
        locale: dto.locale ? pinSmsLocale(dto.locale) : localeFromAcceptLanguage(acceptLanguage),
      });
    } catch (error) {
      if (error instanceof UniqueViolation) throw emailTaken(); // a concurrent registration won
      await allowance.release();
      throw error;
    }
    try {
      const attempt = await this.attempts.open(user, client, allowance);
      await this.audit.record('registered', client, user.id);
      return await this.challengeResponse(attempt);
    } catch (error) {
      await this.users.deleteUnverified(user.id);
      throw error;
    }
  }

  /**
   * passport-local's check. `undefined` for an unknown email or a wrong password, in about the same time.
   * Refused with 429 before any hashing when the IP or the login name is over its limits.
   */
  async checkPassword(email: string, password: string, client: ClientContext): Promise<User | undefined> {
    await this.limits.consumeLoginByIp(client);
    const user = await this.users.findByEmail(email);
    await this.limits.reserveLoginAttempt(email, client, user?.id ?? null);
    const ok = await this.passwords.verify(user?.passwordHash, password);
    if (ok && user) {
      await this.limits.loginSucceeded(email);
      await this.audit.record('login_succeeded', client, user.id);
      return user;
    }
    await this.audit.record('login_failed', client, user?.id ?? null);
    return undefined;
  }

  async login(user: User, client: ClientContext): Promise<ChallengeResponse> {
    return this.challengeResponse(await this.attempts.open(user, client));
  }

  /** `GET /auth/2fa/status`: the challenge as it stands, including whether the SMS was delivered. */
  async challengeStatus(principal: PartialPrincipal): Promise<ChallengeResponse['challenge']> {
    return this.challengeOf(await this.attempts.status(principal.userId, principal.attemptId));
  }

  async resendPin(principal: PartialPrincipal, client: ClientContext): Promise<ChallengeResponse> {
    return this.challengeResponse(await this.attempts.resend(principal.userId, principal.attemptId, client));
  }

  async verifyPin(principal: PartialPrincipal, pin: string, client: ClientContext): Promise<SessionResponse> {
    return this.sessionResponse(
      await this.attempts.verify(principal.userId, principal.attemptId, pin, client),
    );
  }

  async refresh(refreshToken: string, client: ClientContext): Promise<SessionResponse> {
    return this.sessionResponse(await this.sessions.rotate(refreshToken, client));
  }

  /** Ends the caller's session, and the session of `refreshToken` too when it is one of the caller's. */
  async logout(principal: FullPrincipal, client: ClientContext, refreshToken?: string): Promise<void> {
    const { userId, sessionId } = principal;
    await this.sessions.revoke(sessionId, userId);
    const other = refreshToken ? await this.sessions.sessionOfRefreshToken(refreshToken, userId) : undefined;
    if (other && other !== sessionId) await this.sessions.revoke(other, userId);
    await this.audit.record('logout', client, userId);
  }

  private async challengeResponse(attempt: OpenAttempt): Promise<ChallengeResponse> {
    return {
      accessToken: await this.tokens.signPartial(attempt.userId, attempt.id, attempt.expiresAt),
      tokenType: 'Bearer',
      expiresIn: secondsUntil(attempt.expiresAt),
      authLevel: 'partial',
      challenge: this.challengeOf(attempt),
    };
  }

  private challengeOf(attempt: OpenAttempt): ChallengeResponse['challenge'] {
    return {
      channel: 'sms',
      to: maskPhone(attempt.phone),
      expiresIn: secondsUntil(attempt.pinExpiresAt),
      resendIn: secondsUntil(attempt.resendAt),
      delivery: attempt.delivery,
      attemptsLeft: attempt.attemptsLeft,
    };
  }

  private async sessionResponse(session: IssuedSession): Promise<SessionResponse> {
    return {
      accessToken: await this.tokens.signAccess(session.userId, session.sessionId, session.authenticatedAt),
      refreshToken: session.refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.jwt.accessTokenTtlSeconds,
      authLevel: 'full',
    };
  }
}

function secondsUntil(at: Date): number {
  return Math.max(0, Math.ceil((at.getTime() - Date.now()) / 1000));
}

function emailTaken(): ApiException {
  return new ApiException(
    HttpStatus.CONFLICT,
    ErrorCode.EMAIL_TAKEN,
    'An account with this email already exists',
  );
}
