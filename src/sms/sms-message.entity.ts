import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'unknown';

/** One SMS the service handed to a provider, and what became of it. */
@Entity({ name: 'sms_messages' })
export class SmsMessage {
  /** The provider's id (Xoxzo `msgid`; `console-…` / `test-…` for the console driver and test numbers). */
  @PrimaryColumn({ name: 'message_id', type: 'varchar', length: 64 })
  messageId: string;

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

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
