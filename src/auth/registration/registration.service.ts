import { createHash, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import type { ClientContext } from '../../common/index.js';
import { assertPinDestination } from '../../phone/destination-policy.js';
import { PhoneConfig } from '../../phone/phone.config.js';
import { HOUR, perIpBuckets, RateLimiter } from '../../rate-limit/rate-limiter.service.js';
import type { User } from '../../users/user.entity.js';
import { UniqueViolation, UsersService } from '../../users/users.service.js';
import { emailTaken, phoneTaken } from '../auth-errors.js';
import { AuthResponses } from '../auth-responses.js';
import type { ChallengeResponse } from '../dto/auth-responses.js';
import { PasswordService } from '../password/password.service.js';
import { LoginAttemptsService } from '../second-factor/login-attempts.service.js';
import { localeFromAcceptLanguage, pinSmsLocale } from '../second-factor/pin-message.js';
import { PinDeliveryService } from '../second-factor/pin-delivery.service.js';
import type { RegisterDto } from './register.dto.js';
import { RegistrationConfig } from './registration.config.js';

/**
 * `POST /auth/register`: a new account and its first PIN. Probing which emails and phones exist costs a
 * registration like any other (per IP prefix and per email, whatever the answer) and shows in the owner's
 * audit trail; it never spends a verified number's SMS budget or the login pool. If the first PIN cannot be
 * sent (or a limit refuses it), the new account is removed again, so the client can simply retry.
 */
@Injectable()
export class RegistrationService {
  constructor(
    private readonly config: RegistrationConfig,
    private readonly phones: PhoneConfig,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly attempts: LoginAttemptsService,
    private readonly delivery: PinDeliveryService,
    private readonly limiter: RateLimiter,
    private readonly responses: AuthResponses,
    private readonly audit: AuditService,
  ) {}

  async register(
    dto: RegisterDto,
    client: ClientContext,
    acceptLanguage?: string,
  ): Promise<ChallengeResponse> {
    await this.limiter.consume(
      [
        ...perIpBuckets('registrations_per_ip_hour', 'reg:ip', client.ip, this.config.perIpHour, HOUR),
        {
          name: 'registrations_per_email_hour',
          key: `reg:email:${createHash('sha256').update(dto.email).digest('hex')}`,
          limit: this.config.perEmailHour,
          windowSeconds: HOUR,
        },
      ],
      { client, userId: null },
    );
    assertPinDestination(dto.phone, this.phones);
    const holder =
      (await this.users.findByEmail(dto.email)) ?? (await this.users.findByVerifiedPhone(dto.phone));
    if (holder) {
      const reason = holder.email === dto.email ? 'EMAIL_TAKEN' : 'PHONE_TAKEN';
      await this.audit.record('registration_refused', client, holder.id, { reason });
      throw reason === 'EMAIL_TAKEN' ? emailTaken() : phoneTaken();
    }
    // Only now, with an SMS about to be sent, is any SMS budget spent (the new-number pool, not the login one).
    const id = randomUUID();
    const allowance = await this.delivery.reserve({
      phone: dto.phone,
      userId: id,
      client,
      verified: false,
      newAccount: true,
    });
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
      await allowance.release();
      if (error instanceof UniqueViolation) throw emailTaken(); // a concurrent registration won
      throw error;
    }
    try {
      const attempt = await this.attempts.open(user, client, { allowance });
      await this.audit.record('registered', client, user.id);
      return await this.responses.challenge(attempt);
    } catch (error) {
      await this.users.deleteUnverified(user.id);
      throw error;
    }
  }
}
