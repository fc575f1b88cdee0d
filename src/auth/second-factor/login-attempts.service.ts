import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import { ApiException, type ClientContext } from '../../common/index.js';
import type { DeliveryStatus } from '../../sms/sms-message.entity.js';
import { challengeClosed, pinExpired, pinInvalid, resendTooSoon } from '../auth-errors.js';
import { JwtConfig } from '../sessions/jwt.config.js';
import { type AttemptPurpose, LoginAttempt } from './login-attempt.entity.js';
import type { AttemptCompletion, AttemptOptions, AttemptOwner, AttemptRef, OpenAttempt } from './attempts.js';
import { PinDeliveryService, type PinRecipient } from './pin-delivery.service.js';
import { PinConfig } from './pin.config.js';
import { PinService } from './pin.service.js';
import { SecondFactorLockService } from './second-factor-lock.service.js';

type Outcome<T> =
  | { ok: true; value: T; phone: string }
  | { ok: false; error: ApiException; closed: boolean; lockedAccount?: boolean };

/**
 * The second factor's state machine: a login attempt per password login, one PIN at a time per attempt
 * (only its HMAC stored), a failure budget per attempt that resends do not reset, and an atomic verify (a
 * transaction holding the attempt's row lock). An SMS that certainly was not handed to the provider leaves
 * no usable PIN; one that may have been keeps its PIN usable.
 */
@Injectable()
export class LoginAttemptsService {
  constructor(
    @InjectRepository(LoginAttempt) private readonly attempts: Repository<LoginAttempt>,
    private readonly config: PinConfig,
    private readonly jwt: JwtConfig,
    private readonly pins: PinService,
    private readonly delivery: PinDeliveryService,
    private readonly lock: SecondFactorLockService,
    private readonly audit: AuditService,
  ) {}

  /**
   * Opens an attempt for a user whose password was just checked, and sends its PIN. The attempt is usable
   * only once the SMS is handed over (its partial token does not exist before). If the SMS certainly was
   * not sent, the attempt is deleted again: no PIN exists that was not sent. If the outcome is uncertain
   * (the SMS may arrive), the attempt stays, with `delivery: 'unknown'`: the client may resend after the
   * cooldown.
   */
  async open(owner: AttemptOwner, client: ClientContext, options: AttemptOptions = {}): Promise<OpenAttempt> {
    await this.lock.assertOpen(owner.id);
    const now = new Date();
    const id = randomUUID();
    const phone = options.phone ?? owner.phone;
    const pin = this.pins.generate(phone);
    const attempt = this.attempts.create({
      id,
      userId: owner.id,
      phone,
      status: 'pending',
      purpose: options.purpose ?? 'login',
      sessionId: options.sessionId ?? null,
      pinHash: this.pins.hash(pin, id),
      pinSentAt: now,
      pinExpiresAt: this.after(now, this.config.ttlSeconds),
      failedChecks: 0,
      expiresAt: this.after(now, this.jwt.partialTokenTtlSeconds),
      closedAt: null,
    });
    await this.attempts.insert(attempt);
    let delivery: DeliveryStatus;
    try {
      delivery = await this.delivery.send(
        id,
        pin,
        owner.locale,
        this.recipient(attempt, owner, client),
        options.allowance,
      );
    } catch (error) {
      await this.attempts.delete({ id });
      throw error;
    }
    return this.describe(attempt, delivery);
  }

  /**
   * A new PIN for an open attempt; the previous one stops working once the new one is sent; the failure
   * count stays. The resend slot is claimed atomically (`pin_sent_at` moves to now only if the cooldown has
   * passed), so two concurrent resends send one SMS. If the SMS certainly was not sent the claim is undone
   * and the old PIN stays valid; if the outcome is uncertain the new PIN replaces the old one as on success
   * (it may arrive; the old one stops working) and the cooldown counts from this resend.
   */
  async resend(owner: AttemptOwner, ref: AttemptRef, client: ClientContext): Promise<OpenAttempt> {
    await this.lock.assertOpen(ref.userId);
    const attempt = await this.findOpen(this.attempts.manager, ref);
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
        cutoff: this.after(now, -this.config.resendSeconds),
      })
      .execute();
    if (!claimed.affected) {
      // Closed meanwhile (verified, locked, expired)? Then say so, not "too soon".
      const fresh = await this.findOpen(this.attempts.manager, ref);
      const nextAt = this.after(fresh.pinSentAt, this.config.resendSeconds);
      throw resendTooSoon(Math.max(1, Math.ceil((nextAt.getTime() - now.getTime()) / 1000)));
    }
    const pin = this.pins.generate(attempt.phone);
    let delivery: DeliveryStatus;
    try {
      delivery = await this.delivery.send(
        attempt.id,
        pin,
        owner.locale,
        this.recipient(attempt, owner, client),
      );
    } catch (error) {
      await this.attempts.update({ id: attempt.id, pinSentAt: now }, { pinSentAt: previousSentAt });
      throw error;
    }
    attempt.pinHash = this.pins.hash(pin, attempt.id);
    attempt.pinSentAt = now;
    attempt.pinExpiresAt = this.after(now, this.config.ttlSeconds);
    // Only if no newer resend has claimed the attempt since (a slow SMS must not overwrite a newer PIN).
    await this.attempts.update(
      { id: attempt.id, status: 'pending', pinSentAt: now },
      { pinHash: attempt.pinHash, pinExpiresAt: attempt.pinExpiresAt },
    );
    return this.describe(attempt, delivery);
  }

  /** Where an open attempt stands (`GET /auth/2fa/status`): PIN lifetime, resend, attempts, SMS delivery. */
  async status(ref: AttemptRef): Promise<OpenAttempt> {
    const attempt = await this.findOpen(this.attempts.manager, ref);
    return this.describe(attempt, await this.delivery.latestStatus(attempt.id));
  }

  /** The newest open attempt of a session for this purpose (a step-up, a phone change); else `CHALLENGE_CLOSED`. */
  async openOf(userId: string, sessionId: string, purpose: AttemptPurpose): Promise<AttemptRef> {
    const attempt = await this.attempts.findOne({
      where: { userId, sessionId, purpose, status: 'pending' },
      order: { createdAt: 'DESC' },
    });
    if (!attempt) throw challengeClosed();
    return { userId, attemptId: attempt.id, purpose };
  }

  /**
   * Checks a PIN against the attempt (the one named by the partial token, or the session's). First the
   * account's guessing limits (PIN checks per 15 minutes, the consecutive-failure lock). Right: the attempt
   * closes and `complete` runs, in one transaction. Wrong: the failure is committed before the error is
   * returned, and the attempt locks at PIN_MAX_ATTEMPTS.
   */
  async verify<T>(
    ref: AttemptRef,
    pin: string,
    client: ClientContext,
    complete: AttemptCompletion<T>,
  ): Promise<T> {
    const { userId } = ref;
    await this.lock.consumeCheck(userId, client);
    const outcome = await this.attempts.manager.transaction(async (manager): Promise<Outcome<T>> => {
      // One PIN check per account at a time: parallel guesses cannot all pass the lock before it is set.
      await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [userId]);
      await this.lock.assertOpen(userId, manager);
      const attempt = await this.findOpen(manager, ref, true);
      const now = new Date();
      if (attempt.pinExpiresAt <= now) return { ok: false, error: pinExpired(), closed: false };
      if (!this.pins.matches(pin, attempt.id, attempt.pinHash)) {
        const failedChecks = attempt.failedChecks + 1;
        const locked = failedChecks >= this.config.maxAttempts;
        await manager.update(
          LoginAttempt,
          { id: attempt.id },
          { failedChecks, ...(locked ? { status: 'locked' as const, closedAt: now } : {}) },
        );
        const lockedAccount = await this.lock.recordFailure(userId, manager);
        return {
          ok: false,
          error: pinInvalid(this.config.maxAttempts - failedChecks),
          closed: false,
          lockedAccount,
        };
      }
      await manager.update(LoginAttempt, { id: attempt.id }, { status: 'verified', closedAt: now });
      await this.lock.reset(userId, manager);
      try {
        return { ok: true, value: await complete(attempt, manager, now), phone: attempt.phone };
      } catch (error) {
        if (error instanceof ApiException) return { ok: false, error, closed: true };
        throw error;
      }
    });
    if (!outcome.ok) {
      const { code, extra } = outcome.error;
      const attemptsLeft = extra.attemptsLeft;
      await this.audit.record(outcome.closed ? 'attempt_closed' : 'pin_rejected', client, userId, {
        reason: code,
        ...(typeof attemptsLeft === 'number' ? { attemptsLeft } : {}),
      });
      if (attemptsLeft === 0) await this.audit.record('attempt_closed', client, userId, { reason: 'locked' });
      if (outcome.lockedAccount) {
        await this.audit.record('second_factor_locked', client, userId, {
          failures: this.config.consecutiveFailureLimit,
        });
      }
      throw outcome.error;
    }
    await this.audit.record('pin_verified', client, userId);
    await this.delivery.verified(outcome.phone);
    return outcome.value;
  }

  /** The attempt row if it is still open (locked for the transaction with `lock`); else `CHALLENGE_CLOSED`. */
  private async findOpen(manager: EntityManager, ref: AttemptRef, lock = false): Promise<LoginAttempt> {
    const attempt = await manager.findOne(LoginAttempt, {
      where: { id: ref.attemptId, userId: ref.userId, purpose: ref.purpose },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (
      !attempt ||
      attempt.status !== 'pending' ||
      attempt.expiresAt <= new Date() ||
      attempt.failedChecks >= this.config.maxAttempts
    ) {
      throw challengeClosed();
    }
    return attempt;
  }

  /** The attempt's number counts as verified only while it is the owner's verified phone. */
  private recipient(attempt: LoginAttempt, owner: AttemptOwner, client: ClientContext): PinRecipient {
    const verified = owner.phoneVerifiedAt !== null && owner.phone === attempt.phone;
    return { phone: attempt.phone, userId: attempt.userId, client, verified };
  }

  private describe(attempt: LoginAttempt, delivery: DeliveryStatus): OpenAttempt {
    return {
      delivery,
      attemptsLeft: Math.max(0, this.config.maxAttempts - attempt.failedChecks),
      id: attempt.id,
      userId: attempt.userId,
      phone: attempt.phone,
      expiresAt: attempt.expiresAt,
      pinExpiresAt: attempt.pinExpiresAt,
      resendAt: this.after(attempt.pinSentAt, this.config.resendSeconds),
    };
  }

  private after(from: Date, seconds: number): Date {
    return new Date(from.getTime() + seconds * 1000);
  }
}
