import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const AUTH_EVENT_TYPES = [
  'registered',
  /** A registration refused because the email or the verified phone is this account's (a probe, or a typo). */
  'registration_refused',
  'login_succeeded',
  'login_failed',
  'pin_sent',
  'pin_send_failed',
  /** The PIN SMS may have gone out (a timeout or 5xx after the request reached the provider). */
  'pin_send_uncertain',
  'pin_verified',
  'pin_rejected',
  'attempt_closed',
  /** PIN_CONSECUTIVE_FAILURE_LIMIT wrong PINs in a row: the account's second factor is suspended. */
  'second_factor_locked',
  /** A right password refused because the second factor is suspended. */
  'login_blocked',
  'refresh_reused',
  'step_up_sent',
  'step_up_verified',
  'step_up_failed',
  'logout',
  'password_changed',
  'phone_change_started',
  'phone_change_completed',
  'session_revoked',
  'sessions_revoked',
  /** The account was deleted (recorded without IP or user agent, like all its kept events). */
  'account_deleted',
  /** "Remember this device" at a login PIN. */
  'device_remembered',
  /** A login whose remembered device stood in for the PIN. */
  'device_used',
  /** One device forgotten by its user, or all of them (`{reason, count}`) with a change of credentials. */
  'device_forgotten',
  'rate_limited',
  /** The fraud guard paused PINs to a destination (no user: it concerns everyone sending there). */
  'destination_paused',
] as const;
export type AuthEventType = (typeof AUTH_EVENT_TYPES)[number];

/** The audit trail: who did what, from where. Never a secret (no PIN, password or token). */
@Entity({ name: 'auth_events' })
@Index('IDX_auth_events_user_id_created_at', ['userId', 'createdAt'])
export class AuthEvent {
  @PrimaryColumn('uuid')
  id: string;

  /** Null when the caller is not known (e.g. a failed login for an unknown email). */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @Column({ type: 'varchar', length: 32 })
  type: AuthEventType;

  /** Null once the account is deleted (its events are kept without personal data). */
  @Column({ type: 'varchar', length: 45, nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 256, nullable: true })
  userAgent: string | null;

  /** Small, non-secret facts: `{ reason: 'locked' }`, `{ limit: 'sms' }`. */
  @Column({ type: 'jsonb', nullable: true })
  details: Record<string, string | number> | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
