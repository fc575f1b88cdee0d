import type { EntityManager } from 'typeorm';
import type { Allowance } from '../../rate-limit/rate-limiter.service.js';
import type { DeliveryStatus } from '../../sms/sms-message.entity.js';
import type { AttemptPurpose, LoginAttempt } from './login-attempt.entity.js';

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

/** Which attempt: its user, its id, and what its PIN is for (a PIN works only for its purpose). */
export interface AttemptRef {
  userId: string;
  attemptId: string;
  purpose: AttemptPurpose;
}

/** What an attempt is opened for: a login (default), a step-up or phone change in a session, and where the PIN goes. */
export interface AttemptOptions {
  purpose?: AttemptPurpose;
  sessionId?: string;
  /** Send the PIN to this number instead of the owner's (a phone change: the new number). */
  phone?: string;
  /** The SMS budget, when the caller has already taken it (registration). */
  allowance?: Allowance;
}

/** Who the attempt is for: its user, the number the PIN goes to, whether it is verified, the SMS language. */
export interface AttemptOwner {
  id: string;
  phone: string;
  phoneVerifiedAt: Date | null;
  locale: string | undefined;
}

/**
 * What a right PIN leads to (a session, for a login), run inside the transaction that closes the attempt.
 * An `ApiException` it throws refuses the outcome but leaves the attempt closed (e.g. `PHONE_TAKEN`).
 */
export type AttemptCompletion<T> = (attempt: LoginAttempt, manager: EntityManager, now: Date) => Promise<T>;
