import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** PINs sent to, and verified from, one destination in one minute: the fraud guard's sliding window. */
@Entity({ name: 'destination_stats' })
@Index('IDX_destination_stats_minute', ['minute'])
export class DestinationStat {
  /** How the PIN went: `sms` (later `voice`). */
  @PrimaryColumn({ type: 'varchar', length: 8 })
  channel: string;

  /** `country` (ISO 3166 alpha-2) or `prefix` (the number's first 6 digits, with +). */
  @PrimaryColumn({ type: 'varchar', length: 8 })
  scope: 'country' | 'prefix';

  @PrimaryColumn({ type: 'varchar', length: 16 })
  key: string;

  @PrimaryColumn({ type: 'timestamptz' })
  minute: Date;

  @Column({ type: 'integer', default: 0 })
  sent: number;

  @Column({ type: 'integer', default: 0 })
  verified: number;
}
