import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'unknown';

/** One SMS the service handed (or may have handed) to a provider, and what became of it. */
@Entity({ name: 'sms_messages' })
export class SmsMessage {
  /** Made before the send: the delivery-report URL given to the provider names the row by it. */
  @PrimaryColumn('uuid')
  id: string;

  /**
   * The provider's id (Xoxzo `msgid`; `console-…` / `test-…` for the console driver and test numbers); null
   * while the send is under way, and for a send whose outcome is unknown (the provider's answer was lost).
   */
  @Column({ name: 'message_id', type: 'varchar', length: 64, nullable: true, unique: true })
  messageId: string | null;

  /** What the SMS was for (the login attempt's id); the delivery status is reported per reference. */
  @Index('IDX_sms_messages_reference')
  @Column({ type: 'uuid' })
  reference: string;

  @Column({ type: 'varchar', length: 16 })
  status: DeliveryStatus;

  /** The provider's own word for the status (`DELIVERED`, `FAIL`, …). */
  @Column({ name: 'provider_status', type: 'varchar', length: 32, nullable: true })
  providerStatus: string | null;

  /** Credits charged, when the provider says. */
  @Column({ type: 'numeric', precision: 12, scale: 4, nullable: true })
  cost: string | null;

  /** When the provider was last asked for the status (a delivery report triggers at most one read per 30 s). */
  @Column({ name: 'checked_at', type: 'timestamptz', nullable: true })
  checkedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
