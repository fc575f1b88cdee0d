import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { AcceptsForm, Public } from '../common/index.js';
import { SmsDeliveryService, XOXZO_DELIVERY_REPORTS_PATH } from './sms-delivery.service.js';

/**
 * Xoxzo's delivery reports (`callbackurl`). Public, since Xoxzo cannot authenticate; it acts only for
 * message ids this service sent, and trusts nothing in the payload but the id (the status is re-read).
 * Form-encoded or JSON; the answer is always `204`, so the endpoint does not reveal which ids exist.
 */
@Controller(XOXZO_DELIVERY_REPORTS_PATH.replace(/^\//, ''))
export class DeliveryReportsController {
  constructor(private readonly delivery: SmsDeliveryService) {}

  @Public()
  @AcceptsForm()
  @Post()
  @HttpCode(HttpStatus.NO_CONTENT)
  async report(@Body() body: Record<string, unknown> | undefined): Promise<void> {
    await this.delivery.onReport(body && typeof body === 'object' ? body.msgid : undefined);
  }
}
