import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SmsConfig } from './sms.config.js';
import { DeliveryStatus, SmsMessage } from './sms-message.entity.js';
import type { SentSms } from './sms-sender.js';
import { XoxzoClient } from './xoxzo-client.js';

const MESSAGE_ID = /^[A-Za-z0-9-]{1,64}$/;

/** The path Xoxzo is asked to POST delivery reports to, under `PUBLIC_BASE_URL`. */
export const XOXZO_DELIVERY_REPORTS_PATH = '/sms/xoxzo/delivery-reports';

/**
 * Delivery status of the SMS this service sent. Xoxzo reports asynchronously to the callback URL with an
 * undocumented payload, so a report is only a hint: the status is re-read from `GET /sms/messages/<id>/`,
 * and only for message ids this service itself stored.
 */
@Injectable()
export class SmsDeliveryService {
  private readonly logger = new Logger(SmsDeliveryService.name);

  constructor(
    @InjectRepository(SmsMessage) private readonly messages: Repository<SmsMessage>,
    private readonly xoxzo: XoxzoClient,
    private readonly config: SmsConfig,
  ) {}

  /** Where Xoxzo should report delivery: under PUBLIC_BASE_URL, with the Xoxzo driver only. */
  callbackUrl(): string | undefined {
    const { driver, publicBaseUrl } = this.config;
    return driver === 'xoxzo' && publicBaseUrl ? `${publicBaseUrl}${XOXZO_DELIVERY_REPORTS_PATH}` : undefined;
  }

  /**
   * Called when a provider accepted an SMS. `pending` until its delivery report arrives; `unknown` when none
   * will (console driver, test numbers, Xoxzo without PUBLIC_BASE_URL), so a client does not wait for it.
   */
  async recordSent(sent: SentSms, reference: string): Promise<DeliveryStatus> {
    if (!sent.messageId) return 'unknown';
    const status: DeliveryStatus = sent.deliveryReports ? 'pending' : 'unknown';
    await this.messages.insert({
      messageId: sent.messageId,
      reference,
      status,
      providerStatus: null,
      cost: null,
    });
    return status;
  }

  /** Called when a send may or may not have reached the recipient: no id, no report to wait for. */
  async recordUncertain(reference: string): Promise<DeliveryStatus> {
    await this.messages.insert({
      messageId: `unknown-${randomUUID()}`,
      reference,
      status: 'unknown',
      providerStatus: null,
      cost: null,
    });
    return 'unknown';
  }

  /** The status of the newest SMS sent for `reference`. */
  async latestStatus(reference: string): Promise<DeliveryStatus> {
    const latest = await this.messages.findOne({ where: { reference }, order: { createdAt: 'DESC' } });
    return latest?.status ?? 'unknown';
  }

  /**
   * A delivery report arrived for `messageId`. Unknown ids change nothing. Returns whether the message is
   * one of ours (the answer to the caller is the same either way).
   */
  async onReport(messageId: unknown): Promise<boolean> {
    if (typeof messageId !== 'string' || !MESSAGE_ID.test(messageId)) return false;
    const message = await this.messages.findOneBy({ messageId });
    if (!message) return false;
    if (message.status === 'delivered' || message.status === 'failed' || this.config.driver !== 'xoxzo') {
      return true;
    }
    try {
      const fresh = await this.xoxzo.getMessage(messageId);
      if (!fresh) return true;
      await this.messages.update(
        { messageId },
        {
          status: fresh.status,
          providerStatus: fresh.rawStatus.slice(0, 32),
          cost: fresh.cost?.toString() ?? null,
        },
      );
    } catch (error) {
      this.logger.warn(`Could not read the status of SMS ${messageId}: ${String(error)}`);
    }
    return true;
  }
}
