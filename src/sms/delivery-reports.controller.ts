import { Body, Controller, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { AcceptsForm, ApiException, Client, type ClientContext, Public } from '../common/index.js';
import { ipKey } from '../rate-limit/ip-key.js';
import { MINUTE, RateLimiter } from '../rate-limit/rate-limiter.service.js';
import { DeliveryReportLinks, XOXZO_DELIVERY_REPORTS_PATH } from './delivery-report-links.js';
import { SmsConfig } from './sms.config.js';
import { SmsDeliveryService } from './sms-delivery.service.js';

/**
 * Xoxzo's delivery reports (`callbackurl`). Public, since Xoxzo cannot authenticate; instead each message's
 * URL carries its row id and an HMAC of it (`?id=…&sig=…`), which only Xoxzo learns. Form-encoded or
 * JSON; the answer is always `204`, so the endpoint tells nothing, and Xoxzo never sees an error:
 * - a wrong or missing signature: nothing at all is done (no database, no Xoxzo call);
 * - more than SMS_DELIVERY_REPORTS_PER_IP_MINUTE signed reports from one client IP in a minute: ignored;
 * - otherwise the row's status is re-read from Xoxzo, at most once per message per 30 s (see
 *   `SmsDeliveryService.onReport`); nothing in the payload is trusted but its msgid, which must match.
 */
@Controller(XOXZO_DELIVERY_REPORTS_PATH.replace(/^\//, ''))
export class DeliveryReportsController {
  constructor(
    private readonly delivery: SmsDeliveryService,
    private readonly links: DeliveryReportLinks,
    private readonly limiter: RateLimiter,
    private readonly config: SmsConfig,
  ) {}

  @Public()
  @AcceptsForm()
  @Post()
  @HttpCode(HttpStatus.NO_CONTENT)
  async report(
    @Query('id') id: unknown,
    @Query('sig') sig: unknown,
    @Body() body: Record<string, unknown> | undefined,
    @Client() client: ClientContext,
  ): Promise<void> {
    const rowId = this.links.verified(id, sig);
    if (!rowId || !(await this.withinLimit(client))) return;
    await this.delivery.onReport(rowId, body && typeof body === 'object' ? body.msgid : undefined);
  }

  /** Counts the report against its IP's budget; false when over it (the refusal is logged once a window). */
  private async withinLimit(client: ClientContext): Promise<boolean> {
    try {
      await this.limiter.consume(
        [
          {
            name: 'sms_delivery_reports_per_ip_minute',
            key: `sms-dlr:ip:${ipKey(client.ip)}`,
            limit: this.config.deliveryReportsPerIpMinute,
            windowSeconds: MINUTE,
          },
        ],
        { client, userId: null },
      );
      return true;
    } catch (error) {
      if (error instanceof ApiException && error.getStatus() === 429) return false;
      throw error;
    }
  }
}
