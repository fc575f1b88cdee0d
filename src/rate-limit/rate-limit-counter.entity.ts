import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Fixed-window hit counters shared by every app instance (they live in PostgreSQL, not in process memory).
 * One row per limit key and window.
 */
@Entity({ name: 'rate_limit_counters' })
export class RateLimitCounter {
  /** e.g. `sms:phone:+818012345209:3600`. */
  @PrimaryColumn({ type: 'varchar', length: 200 })
  key: string;

  @PrimaryColumn({ name: 'window_start', type: 'timestamptz' })
  windowStart: Date;

  @Column({ type: 'integer' })
  hits: number;

  @Index('IDX_rate_limit_counters_expires_at')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
