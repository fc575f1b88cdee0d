import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { DeliveryReportLinks } from './delivery-report-links.js';
import { SmsConfig } from './sms.config.js';
import { DeliveryStatus, SmsMessage } from './sms-message.entity.js';
import type { SentSms } from './sms-sender.js';
import { XoxzoClient } from './xoxzo-client.js';

/** A delivery report triggers at most one status read from Xoxzo per message in this many seconds. */
export const STATUS_READ_INTERVAL_SECONDS = 30;

/** A message about to be sent: its row id, and where Xoxzo should report its delivery (if anywhere). */
export interface TrackedSms {
  id: string;
  callbackUrl: string | undefined;
}

/**
 * Delivery status of the SMS this service sends: one `sms_messages` row per send, made before it
 * (`track`), completed after it (`recordSent`, `recordUncertain`) or removed when nothing went out
 * (`discard`). Xoxzo reports asynchronously to the row's signed callback URL with an undocumented payload,
 * so a report is only a hint: the status is re-read from `GET /sms/messages/<msgid>/`, at most once per
 * message per STATUS_READ_INTERVAL_SECONDS.
 */
@Injectable()
export class SmsDeliveryService {
  private readonly logger = new Logger(SmsDeliveryService.name);

  constructor(
    @InjectRepository(SmsMessage) private readonly messages: Repository<SmsMessage>,
    private readonly xoxzo: XoxzoClient,
    private readonly links: DeliveryReportLinks,
    private readonly config: SmsConfig,
  ) {}

  /** Before a send for `reference`: the row (status `unknown` until the provider answers) and its URL. */
  async track(reference: string): Promise<TrackedSms> {
    const id = randomUUID();
    await this.messages.insert({
      id,
      messageId: null,
      reference,
      status: 'unknown',
      providerStatus: null,
      cost: null,
      checkedAt: null,
    });
    return { id, callbackUrl: this.links.urlFor(id) };
  }

  /**
   * The provider accepted the SMS of row `id`. `pending` until its delivery report arrives; `unknown` when
   * none will (console driver, test numbers, Xoxzo without PUBLIC_BASE_URL, no msgid), so a client does not
   * wait for it.
   */
  async recordSent(id: string, sent: SentSms): Promise<DeliveryStatus> {
    const status: DeliveryStatus = sent.messageId && sent.deliveryReports ? 'pending' : 'unknown';
    await this.messages.update({ id }, { messageId: sent.messageId, status });
    return status;
  }

  /** The send of row `id` may or may not have gone out (its answer was lost): no msgid, no report to await. */
  async recordUncertain(id: string): Promise<DeliveryStatus> {
    await this.messages.update({ id }, { status: 'unknown' });
    return 'unknown';
  }

  /** The send of row `id` certainly went nowhere: the row goes. */
  async discard(id: string): Promise<void> {
    await this.messages.delete({ id });
  }

  /** The status of the newest SMS sent for `reference`. */
  async latestStatus(reference: string): Promise<DeliveryStatus> {
    const latest = await this.messages.findOne({ where: { reference }, order: { createdAt: 'DESC' } });
    return latest?.status ?? 'unknown';
  }

  /**
   * A delivery report arrived at the signed URL of row `id` (the caller checked the signature). Acts only
   * for that row, only if the report's msgid (when it names one) is the row's, only while the status is
   * not final, and reads Xoxzo at most once per STATUS_READ_INTERVAL_SECONDS: claiming the read moves
   * `checked_at` in one conditional update, so parallel reports read once.
   */
  async onReport(id: string, reportedMsgid: unknown): Promise<void> {
    if (this.config.driver !== 'xoxzo') return;
    const message = await this.messages.findOneBy({ id });
    const msgid = message?.messageId;
    if (!message || !msgid || message.status === 'delivered' || message.status === 'failed') return;
    if (reportedMsgid !== undefined && reportedMsgid !== msgid) return;
    const claimed = await this.messages
      .createQueryBuilder()
      .update()
      .set({ checkedAt: () => 'now()' })
      .where('id = :id', { id })
      .andWhere(`(checked_at IS NULL OR checked_at <= now() - make_interval(secs => :interval))`, {
        interval: STATUS_READ_INTERVAL_SECONDS,
      })
      .execute();
    if (!claimed.affected) return;
    try {
      const fresh = await this.xoxzo.getMessage(msgid);
      if (!fresh) return;
      await this.messages.update(
        { id },
        {
          status: fresh.status,
          providerStatus: fresh.rawStatus.slice(0, 32),
          cost: fresh.cost?.toString() ?? null,
        },
      );
    } catch (error) {
      this.logger.warn(`Could not read the status of SMS ${msgid}: ${String(error)}`);
    }
  }
}
