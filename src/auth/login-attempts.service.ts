import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ApiException } from '../common/api.exception.js';
import { ErrorCode } from '../common/error-codes.js';
import { AppConfig } from '../config/app-config.js';
import { SmsDeliveryError, SmsSender } from '../sms/sms-sender.js';
import type { User } from '../users/user.entity.js';
import { UniqueViolation, UsersService } from '../users/users.service.js';
import { LoginAttempt } from './login-attempt.entity.js';
import { PinService } from './pin.service.js';
import { IssuedSession, SessionsService } from './sessions.service.js';

/** A login attempt whose PIN is on its way. */
export interface OpenAttempt {
  id: string;
  userId: string;
  phone: string;
  expiresAt: Date;
  pinExpiresAt: Date;
  resendAt: Date;
}

type VerifyOutcome = { ok: true; session: IssuedSession } | { ok: false; error: ApiException };

/**
 * The second factor: a login attempt per password login, one PIN at a time per attempt (only its HMAC
 * stored), a failure budget per attempt that resends do not reset, and an atomic verify. Every state change
 * happens in a transaction holding the attempt's row lock, and an SMS that cannot be handed to the provider
 * rolls the change back: no PIN exists that was not sent.
 */
@Injectable()
export class LoginAttemptsService {
  private readonly logger = new Logger(LoginAttemptsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly pins: PinService,
    private readonly sms: SmsSender,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
  ) {}

  /** Opens an attempt for a user whose password was just checked, and sends its PIN. */
  async open(user: User, manager?: EntityManager): Promise<OpenAttempt> {
    if (!manager) return this.dataSource.transaction((m) => this.open(user, m));
    if (!user.phoneVerifiedAt && (await this.users.phoneVerifiedElsewhere(user.phone, user.id, manager))) {
      throw phoneTaken();
    }
    const now = new Date();
    const id = randomUUID();
    const pin = this.pins.generate();
    const attempt = manager.create(LoginAttempt, {
      id,
      userId: user.id,
      phone: user.phone,
      status: 'pending',
      pinHash: this.pins.hash(pin, id),
      pinSentAt: now,
      pinExpiresAt: this.after(now, this.config.pin.ttlSeconds),
      failedChecks: 0,
      expiresAt: this.after(now, this.config.jwt.partialTokenTtlSeconds),
      closedAt: null,
      smsMessageId: null,
    });
    await manager.insert(LoginAttempt, attempt);
    attempt.smsMessageId = await this.sendPin(attempt.phone, pin);
    await manager.update(LoginAttempt, { id }, { smsMessageId: attempt.smsMessageId });
    return this.describe(attempt);
  }

  /** A new PIN for an open attempt; the previous one stops working; the failure count stays. */
  async resend(userId: string, attemptId: string): Promise<OpenAttempt> {
    return this.dataSource.transaction(async (manager) => {
      const attempt = await this.lockOpen(manager, userId, attemptId);
      const now = new Date();
      const resendAt = this.after(attempt.pinSentAt, this.config.pin.resendSeconds);
      if (resendAt > now) {
        const retryAfter = Math.ceil((resendAt.getTime() - now.getTime()) / 1000);
        throw new ApiException(
          HttpStatus.TOO_MANY_REQUESTS,
          ErrorCode.RESEND_TOO_SOON,
          `Wait ${retryAfter} s before asking for another PIN`,
          { retryAfter },
          { 'Retry-After': String(retryAfter) },
        );
      }
      const pin = this.pins.generate();
      attempt.pinHash = this.pins.hash(pin, attempt.id);
      attempt.pinSentAt = now;
      attempt.pinExpiresAt = this.after(now, this.config.pin.ttlSeconds);
      attempt.smsMessageId = await this.sendPin(attempt.phone, pin);
      await manager.update(
        LoginAttempt,
        { id: attempt.id },
        {
          pinHash: attempt.pinHash,
          pinSentAt: attempt.pinSentAt,
          pinExpiresAt: attempt.pinExpiresAt,
          smsMessageId: attempt.smsMessageId,
        },
      );
      return this.describe(attempt);
    });
  }

  /**
   * Checks a PIN against the attempt named by the partial token. Right: the attempt closes, the phone is
   * marked verified and a session is created, all in one transaction. Wrong: the failure is committed before
   * the error is returned, and the attempt locks at PIN_MAX_ATTEMPTS.
   */
  async verify(userId: string, attemptId: string, pin: string): Promise<IssuedSession> {
    const outcome = await this.dataSource.transaction(async (manager): Promise<VerifyOutcome> => {
      const attempt = await this.lockOpen(manager, userId, attemptId);
      const now = new Date();
      if (attempt.pinExpiresAt <= now) {
        return {
          ok: false,
          error: new ApiException(
            HttpStatus.UNAUTHORIZED,
            ErrorCode.PIN_EXPIRED,
            'This PIN has expired: ask for a new one',
          ),
        };
      }
      if (!this.pins.matches(pin, attempt.id, attempt.pinHash)) {
        const failedChecks = attempt.failedChecks + 1;
        const locked = failedChecks >= this.config.pin.maxAttempts;
        await manager.update(
          LoginAttempt,
          { id: attempt.id },
          { failedChecks, ...(locked ? { status: 'locked' as const, closedAt: now } : {}) },
        );
        const attemptsLeft = this.config.pin.maxAttempts - failedChecks;
        return {
          ok: false,
          error: new ApiException(HttpStatus.UNAUTHORIZED, ErrorCode.PIN_INVALID, 'The PIN is not correct', {
            attemptsLeft,
          }),
        };
      }
      await manager.update(LoginAttempt, { id: attempt.id }, { status: 'verified', closedAt: now });
      // First to verify a number keeps it. The unique index settles a race; this check gives the common
      // case a clean answer (a unique violation aborts the transaction).
      if (await this.users.phoneVerifiedElsewhere(attempt.phone, userId, manager)) {
        return { ok: false, error: phoneTaken() };
      }
      try {
        await this.users.markPhoneVerified(userId, manager);
      } catch (error) {
        if (!(error instanceof UniqueViolation)) throw error;
        return { ok: false, error: phoneTaken() };
      }
      return { ok: true, session: await this.sessions.create(userId, now, manager) };
    });
    if (!outcome.ok) throw outcome.error;
    return outcome.session;
  }

  /** The attempt row, locked for this transaction, if it is still open; else `CHALLENGE_CLOSED`. */
  private async lockOpen(manager: EntityManager, userId: string, attemptId: string): Promise<LoginAttempt> {
    const attempt = await manager.findOne(LoginAttempt, {
      where: { id: attemptId, userId },
      lock: { mode: 'pessimistic_write' },
    });
    if (
      !attempt ||
      attempt.status !== 'pending' ||
      attempt.expiresAt <= new Date() ||
      attempt.failedChecks >= this.config.pin.maxAttempts
    ) {
      throw new ApiException(
        HttpStatus.UNAUTHORIZED,
        ErrorCode.CHALLENGE_CLOSED,
        'This login attempt is closed (used, locked or expired): log in again',
      );
    }
    return attempt;
  }

  private async sendPin(phone: string, pin: string): Promise<string | null> {
    try {
      return (await this.sms.send({ to: phone, text: this.pins.message(pin) })).messageId;
    } catch (error) {
      if (error instanceof SmsDeliveryError && error.reason === 'recipient_rejected') {
        throw new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, [
          'phone: the SMS provider rejected this number',
        ]);
      }
      this.logger.warn(`PIN SMS not sent: ${error instanceof Error ? error.message : String(error)}`);
      throw new ApiException(
        HttpStatus.SERVICE_UNAVAILABLE,
        ErrorCode.SMS_UNAVAILABLE,
        'The verification SMS could not be sent; please try again shortly',
      );
    }
  }

  private describe(attempt: LoginAttempt): OpenAttempt {
    return {
      id: attempt.id,
      userId: attempt.userId,
      phone: attempt.phone,
      expiresAt: attempt.expiresAt,
      pinExpiresAt: attempt.pinExpiresAt,
      resendAt: this.after(attempt.pinSentAt, this.config.pin.resendSeconds),
    };
  }

  private after(from: Date, seconds: number): Date {
    return new Date(from.getTime() + seconds * 1000);
  }
}

export function phoneTaken(): ApiException {
  return new ApiException(
    HttpStatus.CONFLICT,
    ErrorCode.PHONE_TAKEN,
    'This phone number is already verified on another account',
  );
}
