import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { ClientContext, FullPrincipal } from '../common/index.js';
import type { User } from '../users/user.entity.js';
import { UniqueViolation, UsersService } from '../users/users.service.js';
import { emailTaken, phoneTaken } from './auth-errors.js';
import { AuthResponses } from './auth-responses.js';
import type { ChallengeResponse, SessionResponse } from './dto/auth-responses.js';
import type { RegisterDto } from './dto/register.dto.js';
import { PasswordService } from './password/password.service.js';
import { LoginAttemptsService } from './second-factor/login-attempts.service.js';
import { localeFromAcceptLanguage, pinSmsLocale } from './second-factor/pin-message.js';
import { PinDeliveryService } from './second-factor/pin-delivery.service.js';
import { RefreshRotationService } from './sessions/refresh-rotation.service.js';
import { SessionsService } from './sessions/sessions.service.js';

/** Registration, the step after the password, refresh and logout. Controllers only call this. */
@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly attempts: LoginAttemptsService,
    private readonly delivery: PinDeliveryService,
    private readonly sessions: SessionsService,
    private readonly rotation: RefreshRotationService,
    private readonly responses: AuthResponses,
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
    const allowance = await this.delivery.reserve({ phone: dto.phone, userId: id, client, newAccount: true });
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
      return await this.responses.challenge(attempt);
    } catch (error) {
      await this.users.deleteUnverified(user.id);
      throw error;
    }
  }

  /** After a right password: a login attempt and its PIN, unless another account has verified the number. */
  async login(user: User, client: ClientContext): Promise<ChallengeResponse> {
    if (!user.phoneVerifiedAt && (await this.users.phoneVerifiedElsewhere(user.phone, user.id))) {
      throw phoneTaken();
    }
    return this.responses.challenge(await this.attempts.open(user, client));
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
