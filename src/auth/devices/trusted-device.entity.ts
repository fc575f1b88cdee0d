import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../../users/user.entity.js';

/**
 * A remembered device ("remember this device"): its opaque token (256 bits, stored as SHA-256) lets the
 * password alone open a session on it until `expiresAt`.
 */
@Entity({ name: 'trusted_devices' })
export class TrustedDevice {
  @PrimaryColumn('uuid')
  id: string;

  @Index('IDX_trusted_devices_user_id')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Index('UQ_trusted_devices_token_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash: Buffer;

  @Column({ name: 'user_agent', type: 'varchar', length: 256, nullable: true })
  userAgent: string | null;

  /** When a PIN was last proven on this device: its sessions' second-factor time. */
  @Column({ name: 'second_factor_at', type: 'timestamptz' })
  secondFactorAt: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
