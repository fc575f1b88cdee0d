import { createHmac, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ServerKeys } from '../common/index.js';
import { SmsConfig } from './sms.config.js';

/** The path Xoxzo is asked to POST delivery reports to, under `PUBLIC_BASE_URL`. */
export const XOXZO_DELIVERY_REPORTS_PATH = '/sms/xoxzo/delivery-reports';

const ROW_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** 128 bits of HMAC-SHA256, hex: unguessable, and keeps the callback URL short. */
const SIGNATURE = /^[0-9a-f]{32}$/;
const SIGNATURE_BYTES = 16;

/**
 * The delivery-report URL of one SMS: `PUBLIC_BASE_URL/sms/xoxzo/delivery-reports?id=<row id>&sig=<sig>`,
 * where `sig` is an HMAC-SHA256 of the `sms_messages` row id (made before the send: Xoxzo assigns its msgid
 * only in its answer) under a key derived from the server secret for this purpose only. Only Xoxzo learns
 * the URL, so a report without the right signature is not Xoxzo's and does nothing.
 */
@Injectable()
export class DeliveryReportLinks {
  private readonly key: Buffer;
  /** Undefined when no reports are asked for: the console driver, or no PUBLIC_BASE_URL. */
  private readonly base: string | undefined;

  constructor(config: SmsConfig, keys: ServerKeys) {
    this.key = keys.derive('sms:delivery-report');
    this.base =
      config.driver === 'xoxzo' && config.publicBaseUrl
        ? `${config.publicBaseUrl}${XOXZO_DELIVERY_REPORTS_PATH}`
        : undefined;
  }

  /** The callback URL for the row `id`; undefined when Xoxzo is not to report delivery. */
  urlFor(id: string): string | undefined {
    if (!this.base) return undefined;
    const query = new URLSearchParams({ id, sig: this.sign(id).toString('hex') });
    return `${this.base}?${query.toString()}`;
  }

  /** The row id a report names, if `sig` is its signature (compared in constant time); else undefined. */
  verified(id: unknown, sig: unknown): string | undefined {
    if (typeof id !== 'string' || typeof sig !== 'string' || !ROW_ID.test(id) || !SIGNATURE.test(sig)) {
      return undefined;
    }
    return timingSafeEqual(Buffer.from(sig, 'hex'), this.sign(id)) ? id : undefined;
  }

  private sign(id: string): Buffer {
    return createHmac('sha256', this.key).update(id).digest().subarray(0, SIGNATURE_BYTES);
  }
}
