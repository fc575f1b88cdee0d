import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../../users/user.entity.js';
import { TrustedDevice } from '../devices/trusted-device.entity.js';

export type SessionEndReason =
  'logout' | 'refresh_reuse' | 'revoked' | 'password_changed' | 'phone_changed' | 'others_ended';

/**
 * A fully authenticated session (after the second factor, or on a remembered device). Full tokens name it in
 * `sid`. It ends when revoked, and at the latest SESSION_MAX_SECONDS after it started (`createdAt`).
 */
@Entity({ name: 'sessions' })
export class Session {
  @PrimaryColumn('uuid')
  id: string;

  @Index('IDX_sessions_user_id')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  /** When the user last authenticated in this session: the login, or the latest step-up (`auth_time`). */
  @Column({ name: 'authenticated_at', type: 'timestamptz' })
  authenticatedAt: Date;

  /** When a PIN was last proven for this session (the login's, a step-up's, or the remembered device's). */
  @Column({ name: 'second_factor_at', type: 'timestamptz' })
  secondFactorAt: Date;

  /** RFC 8176 methods of the session, in token order (`pwd,sms,mfa`; `pwd,device`). */
  @Column({ type: 'simple-array' })
  amr: string[];

  /** The remembered device it was opened on (its PIN time follows the device's). */
  @Index('IDX_sessions_device_id')
  @Column({ name: 'device_id', type: 'uuid', nullable: true })
  deviceId: string | null;

  @ManyToOne(() => TrustedDevice, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'device_id' })
  device?: TrustedDevice;

  /** Where it was started from (for the user's list of sessions). */
  @Column({ type: 'varchar', length: 45, nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 256, nullable: true })
  userAgent: string | null;

  /** The last refresh (not every request). */
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revoked_reason', type: 'varchar', length: 32, nullable: true })
  revokedReason: SessionEndReason | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
