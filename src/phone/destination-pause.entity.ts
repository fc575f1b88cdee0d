import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A destination the fraud guard has paused: no PIN goes there (but to trusted numbers) until `until`. */
@Entity({ name: 'destination_pauses' })
export class DestinationPause {
  @PrimaryColumn({ type: 'varchar', length: 8 })
  channel: string;

  @PrimaryColumn({ type: 'varchar', length: 8 })
  scope: 'country' | 'prefix';

  @PrimaryColumn({ type: 'varchar', length: 16 })
  key: string;

  @Column({ type: 'timestamptz' })
  until: Date;

  /** What the window showed when it paused. */
  @Column({ type: 'integer' })
  sent: number;

  @Column({ type: 'integer' })
  verified: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
