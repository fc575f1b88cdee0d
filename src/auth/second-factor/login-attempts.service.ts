import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import { ApiException, type ClientContext, ErrorCode } from '../../common/index.js';
import { JwtConfig } from '../sessions/jwt.config.js';
import { RateLimitsService, SmsAllowance } from '../../rate-limit/rate-limits.service.js';
import { SmsDeliveryService } from '../../sms/sms-delivery.service.js';
import type { DeliveryStatus } from '../../sms/sms-message.entity.js';
import { SentSms, SmsDeliveryError, SmsSender } from '../../sms/sms-sender.js';
import type { User } from '../../users/user.entity.js';
import { UniqueViolation, UsersService } from '../../users/users.service.js';
import { LoginAttempt } from './login-attempt.entity.js';
import { PinConfig } from './pin.config.js';
import { PinService } from './pin.service.js';
import { IssuedSession, SessionsService } from '../sessions/sessions.service.js';

/** A login attempt whose PIN is on its way. */
export interface OpenAttempt {
  id: string;
  userId: string;
  phone: string;
  expiresAt: Date;
  pinExpiresAt: Date;
  resendAt: Date;
  /** Delivery status of the newest PIN SMS, as far as the provider has told. */
  delivery: DeliveryStatus;
  /** PIN checks this attempt has left. */
  attemptsLeft: number;
}

type VerifyOutcome = { ok: true; session: IssuedSession } | { ok: false; error: ApiException };

/**
 * The second factor: a login attempt per password login, one PIN at a time per attempt (only its HMAC
 * stored), a failure budget per attempt that resends do not reset, and an atomic verify (a transaction
 * holding the attempt's row lock). An SMS that cannot be handed to the provider leaves no usable PIN.
 */
@Injectable()
export class LoginAttemptsService {
  private readonly logger = new Logger(LoginAttemptsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(LoginAttempt) private readonly attempts: Repository<LoginAttempt>,
    private readonly pinConfig: PinConfig,
    private readonly jwt: JwtConfig,
    private readonly pins: PinService,
    private readonly sms: SmsSender,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly limits: RateLimitsService,
    private readonly audit: AuditService,
    private readonly delivery: SmsDeliveryService,
  ) {}

  /**
   * Opens an attempt for a user whose password was just checked, and sends its PIN. The attempt is usable
   * only once the SMS is accepted (its partial token does not exist before); if the SMS fails, the attempt
   * is deleted again: no PIN exists that was not sent. No database connection is held during the SMS call.
   */
  async open(user: User, client: ClientContext, allowance?: SmsAllowance): Promise<OpenAttempt> {
    if (!user.phoneVerifiedAt && (await this.users.phoneVerifiedElsewhere(user.phone, user.id))) {
      throw phoneTaken();
    }
    const now = new Date();
    const id = randomUUID();
    const pin = this.pins.generate(user.phone);
    const attempt = this.attempts.create({
      id,
      userId: user.id,
      phone: user.phone,
      status: 'pending',
      pinHash: this.pins.hash(pin, id),
      pinSentAt: now,
      pinExpiresAt: this.after(now, this.pinConfig.ttlSeconds),
      failedChecks: 0,
      expiresAt: this.after(now, this.jwt.partialTokenTtlSeconds),
      closedAt: null,
    });
    await this.attempts.insert(attempt);
    let delivery: DeliveryStatus;
    try {
      delivery = await this.sendPin(attempt, pin, user.locale, client, allowance);
    } catch (error) {
      await this.attempts.delete({ id });
      throw error;
    }
    return this.describe(attempt, delivery);
  }

  /**
   * A new PIN for an open attempt; the previous one stops working once the new one is sent; the failure
   * count stays. The resend slot is claimed atomically (`pin_sent_at` moves to now only if the cooldown has
   * passed), so two concurrent resends send one SMS; if the SMS fails the claim is undone and the old PIN
   * stays valid.
   */
  async resend(userId: string, attemptId: string, client: ClientContext): Promise<OpenAttempt> {
    const attempt = await this.findOpen(this.dataSource.manager, userId, attemptId);
    const previousSentAt = attempt.pinSentAt;
    const now = new Date();
    const claimed = await this.attempts
      .createQueryBuilder()
      .update()
      .set({ pinSentAt: now })
      .where('id = :id AND status = :pending AND pin_sent_at = :previousSentAt AND pin_sent_at <= :cutoff', {
        id: attempt.id,
        pending: 'pending',
        previousSentAt,
        cutoff: this.after(now, -this.pinConfig.resendSeconds),
      })
      .execute();
    if (!claimed.affected) {
      // Closed meanwhile (verified, locked, expired)? Then say so, not "too soon".
      const fresh = await this.findOpen(this.dataSource.manager, userId, attemptId);
      const retryAfter = Math.max(
        1,
        Math.ceil(
          (this.after(fresh.pinSentAt, this.pinConfig.resendSeconds).getTime() - now.getTime()) / 1000,
        ),
      );
      throw new ApiException(
        HttpStatus.TOO_MANY_REQUESTS,
        ErrorCode.RESEND_TOO_SOON,
        `Wait ${retryAfter} s before asking for another PIN`,
        { retryAfter },
        { 'Retry-After': String(retryAfter) },
      );
    }
    const pin = this.pins.generate(attempt.phone);
    const locale = (await this.users.findById(userId))?.locale;
    let delivery: DeliveryStatus;
    try {
      delivery = await this.sendPin(attempt, pin, locale, client);
    } catch (error) {
      await this.attempts.update({ id: attempt.id, pinSentAt: now }, { pinSentAt: previousSentAt });
      throw error;
    }
    attempt.pinHash = this.pins.hash(pin, attempt.id);
    attempt.pinSentAt = now;
    attempt.pinExpiresAt = this.after(now, this.pinConfig.ttlSeconds);
    // Only if no newer resend has claimed the attempt since (a slow SMS must not overwrite a newer PIN).
    await this.attempts.update(
      { id: attempt.id, status: 'pending', pinSentAt: now },
      { pinHash: attempt.pinHash, pinExpiresAt: attempt.pinExpiresAt },
    );
    return this.describe(attempt, delivery);
  }

  /** Where an open attempt stands (`GET /auth/2fa/status`): PIN lifetime, resend, attempts, SMS delivery. */
  async status(userId: string, attemptId: string): Promise<OpenAttempt> {
    const attempt = await this.findOpen(this.dataSource.manager, userId, attemptId);
    return this.describe(attempt, await this.delivery.latestStatus(attempt.id));
  }

  /**
   * Checks a PIN against the attempt named by the partial token. Right: the attempt closes, the phone is
   * marked verified and a session is created, all in one transaction. Wrong: the failure is committed before
   * the error is returned, and the attempt locks at PIN_MAX_ATTEMPTS.
   */
  async verify(
    userId: string,
    attemptId: string,
    pin: string,
    client: ClientContext,
  ): Promise<IssuedSession> {
    // A per-account budget over time, on top of the per-attempt limit: new logins do not multiply guesses.
    await this.limits.consumePinCheck(userId, client);
    const outcome = await this.dataSource.transaction(async (manager): Promise<VerifyOutcome> => {
      const attempt = await this.findOpen(manager, userId, attemptId, true);
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
        const locked = failedChecks >= this.pinConfig.maxAttempts;
        await manager.update(
          LoginAttempt,
          { id: attempt.id },
          { failedChecks, ...(locked ? { status: 'locked' as const, closedAt: now } : {}) },
        );
        const attemptsLeft = this.pinConfig.maxAttempts - failedChecks;
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
    if (!outcome.ok) {
      const { code } = outcome.error;
      const attemptsLeft = outcome.error.extra.attemptsLeft;
      await this.audit.record(
        code === ErrorCode.PHONE_TAKEN ? 'attempt_closed' : 'pin_rejected',
        client,
        userId,
        {
          reason: code,
          ...(typeof attemptsLeft === 'number' ? { attemptsLeft } : {}),
        },
      );
      if (attemptsLeft === 0) await this.audit.record('attempt_closed', client, userId, { reason: 'locked' });
      throw outcome.error;
    }
    await this.audit.record('pin_verified', client, userId);
    return outcome.session;
  }

  /** The attempt row if it is still open (locked for the transaction with `lock`); else `CHALLENGE_CLOSED`. */
  private async findOpen(
    manager: EntityManager,
    userId: string,
    attemptId: string,
    lock = false,
  ): Promise<LoginAttempt> {
    const attempt = await manager.findOne(LoginAttempt, {
      where: { id: attemptId, userId },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (
      !attempt ||
      attempt.status !== 'pending' ||
      attempt.expiresAt <= new Date() ||
      attempt.failedChecks >= this.pinConfig.maxAttempts
    ) {
      throw new ApiException(
        HttpStatus.UNAUTHORIZED,
        ErrorCode.CHALLENGE_CLOSED,
        'This login attempt is closed (used, locked or expired): log in again',
      );
    }
    return attempt;
  }

  /**
   * Counts the send against the SMS limits first (over a limit nothing is sent: 429) unless the caller
   * already did (`allowance`), sends the PIN in the user's language, and records the message for delivery
   * tracking (an `sms_messages` row referencing the attempt). A send that certainly did not go out gives its budget back, so
   * that retrying once the provider works again is not refused; one that may have gone out (a timeout or a
   * 5xx in any of its attempts) keeps it.
   */
  private async sendPin(
    attempt: LoginAttempt,
    pin: string,
    locale: string | undefined,
    client: ClientContext,
    allowance?: SmsAllowance,
  ): Promise<DeliveryStatus> {
    const { phone, userId } = attempt;
    const budget = allowance ?? (await this.limits.consumeSms({ phone, userId, client }));
    let sent: SentSms;
    try {
      sent = await this.sms.send({
        to: phone,
        text: this.pins.message(pin, locale),
        locale,
        otp: { code: pin, minutes: this.pins.minutes() },
      });
    } catch (error) {
      if (error instanceof SmsDeliveryError && !error.mayHaveBeenSent) await budget.release();
      await this.audit.record('pin_send_failed', client, userId, {
        reason: error instanceof SmsDeliveryError ? error.reason : 'error',
      });
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
    await this.audit.record('pin_sent', client, userId);
    return this.delivery.recordSent(sent, attempt.id);
  }

  private describe(attempt: LoginAttempt, delivery: DeliveryStatus): OpenAttempt {
    return {
      delivery,
      attemptsLeft: Math.max(0, this.pinConfig.maxAttempts - attempt.failedChecks),
      id: attempt.id,
      userId: attempt.userId,
      phone: attempt.phone,
      expiresAt: attempt.expiresAt,
      pinExpiresAt: attempt.pinExpiresAt,
      resendAt: this.after(attempt.pinSentAt, this.pinConfig.resendSeconds),
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
