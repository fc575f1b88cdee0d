import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../../users/user.entity.js';
import { Session } from '../sessions/session.entity.js';

export type LoginAttemptStatus = 'pending' | 'verified' | 'locked';

/** What the PIN is for: a login, a step-up in a session, a new phone number. A PIN works for its purpose only. */
export type AttemptPurpose = 'login' | 'step_up' | 'phone_change';

/**
 * One password login (or registration) waiting for its second factor. Its id is the partial token's `jti`:
 * the PIN stored here works only with that token. Its SMS are `sms_messages` rows with this id as reference.
 */
@Entity({ name: 'login_attempts' })
export class LoginAttempt {
  @PrimaryColumn('uuid')
  id: string;

  @Index('IDX_login_attempts_user_id')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: LoginAttemptStatus;

  @Column({ type: 'varchar', length: 16, default: 'login' })
  purpose: AttemptPurpose;

  /** The session a step-up or phone change belongs to (none for a login). */
  @Index('IDX_login_attempts_session_id')
  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId: string | null;

  @ManyToOne(() => Session, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: Session;

  /** The E.164 number the PIN went to (the user's phone at the time). */
  @Column({ type: 'varchar', length: 16 })
  phone: string;

  /** HMAC-SHA256 of the current PIN, keyed by a server secret; never the PIN itself. */
  @Column({ name: 'pin_hash', type: 'bytea' })
  pinHash: Buffer;

  @Column({ name: 'pin_sent_at', type: 'timestamptz' })
  pinSentAt: Date;

  @Column({ name: 'pin_expires_at', type: 'timestamptz' })
  pinExpiresAt: Date;

  /** Wrong PINs for this attempt; a resend does not reset it. */
  @Column({ name: 'failed_checks', type: 'integer', default: 0 })
  failedChecks: number;

  /** Same instant as the partial token's `exp`. */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
