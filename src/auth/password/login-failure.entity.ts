import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Consecutive password failures per login name (known or not, so both look alike), keyed by SHA-256 of the
 * normalised email: attacker-typed names are not stored. A success deletes the row.
 */
@Entity({ name: 'login_failures' })
export class LoginFailure {
  @PrimaryColumn({ name: 'email_hash', type: 'bytea' })
  emailHash: Buffer;

  /** Attempts not (yet) followed by a success; each attempt is counted before its password is checked. */
  @Column({ type: 'integer' })
  failures: number;

  @Column({ name: 'last_attempt_at', type: 'timestamptz' })
  lastAttemptAt: Date;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;
}
