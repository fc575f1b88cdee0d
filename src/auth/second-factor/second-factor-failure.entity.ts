import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { User } from '../../users/user.entity.js';

/**
 * Consecutive wrong PINs of one account, across all its login attempts; only a right PIN resets it. At
 * PIN_CONSECUTIVE_FAILURE_LIMIT the account's second factor is suspended until `lockedUntil`.
 */
@Entity({ name: 'second_factor_failures' })
export class SecondFactorFailure {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @OneToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'integer' })
  failures: number;

  @Column({ name: 'last_failure_at', type: 'timestamptz' })
  lastFailureAt: Date;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;
}
