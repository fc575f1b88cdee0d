import { Injectable, Logger } from '@nestjs/common';
import { SmsConfig } from './sms.config.js';
import { OutgoingSms, SendOptions, SentSms, SmsDeliveryError, SmsSender } from './sms-sender.js';
import { XoxzoClient, XoxzoError } from './xoxzo-client.js';

/**
 * One attempt at sending an SMS through Xoxzo (retries, the deadline and the circuit breaker are
 * `ResilientSmsSender`'s job).
 *
 * - Template mode when a template id is configured for the SMS's locale (`XOXZO_TEMPLATE_IDS`, e.g.
 *   `en:12,ja:13`) or as the default (`XOXZO_TEMPLATE_ID`), and the SMS carries its `otp`:
 *   `POST /sms/templates/<id>/messages/` with the PIN and the minutes as the configured variables.
 * - Freeform otherwise: `POST /sms/messages/` with the text.
 * - An SMS with a `callbackUrl` asks Xoxzo to report its delivery there (`callbackurl`).
 *
 * Failures reject with `SmsDeliveryError` (`kind` + the coarse `reason` Auth uses, and whether the SMS may
 * have gone out anyway: `mayHaveBeenSent`, from the client). Credentials (401) and credit (403) problems are
 * logged at error level, as configuration alarms; outages at warn.
 */
@Injectable()
export class XoxzoSmsSender extends SmsSender {
  private readonly logger = new Logger(XoxzoSmsSender.name);
  private readonly templates: SmsConfig['xoxzo']['templates'];

  constructor(
    config: SmsConfig,
    private readonly client: XoxzoClient,
  ) {
    super();
    this.templates = config.xoxzo.templates;
  }

  async send(sms: OutgoingSms, options: SendOptions = {}): Promise<SentSms> {
    const templateId = this.templateFor(sms.locale);
    const callbackurl = sms.callbackUrl;
    // Only the deadline's signal goes down: a single attempt has nothing to retry.
    const { signal } = options;
    try {
      if (templateId && sms.otp) {
        const { pinVariable, minutesVariable } = this.templates;
        const messageId = await this.client.sendTemplate(
          templateId,
          {
            recipient: sms.to,
            variables: { [pinVariable]: sms.otp.code, [minutesVariable]: String(sms.otp.minutes) },
            callbackurl,
          },
          { signal },
        );
        return this.accepted(messageId, callbackurl);
      }
      if (templateId) {
        this.logger.warn(`A template is configured but this SMS carries no OTP values: sent freeform`);
      }
      const messageId = await this.client.sendFreeform(
        { recipient: sms.to, message: sms.text, callbackurl },
        { signal },
      );
      return this.accepted(messageId, callbackurl);
    } catch (error) {
      throw this.failure(error, templateId && sms.otp ? templateId : undefined);
    }
  }

  /** The template for a locale (`ja-JP` → `ja`), else the default one; undefined = freeform. */
  private templateFor(locale: string | undefined): string | undefined {
    const { byLocale } = this.templates;
    const wanted = locale?.trim().toLowerCase();
    const id = wanted ? (byLocale[wanted] ?? byLocale[wanted.split(/[-_]/)[0]]) : undefined;
    return id ?? this.templates.default;
  }

  private accepted(messageId: string | null, callbackurl: string | undefined): SentSms {
    if (!messageId) this.logger.warn('Xoxzo accepted the SMS but returned no msgid');
    return { messageId, deliveryReports: messageId !== null && callbackurl !== undefined };
  }

  private failure(error: unknown, templateId: string | undefined): SmsDeliveryError {
    if (!(error instanceof XoxzoError)) {
      this.logger.error(`Unexpected error sending through Xoxzo: ${String(error)}`);
      return SmsDeliveryError.of('provider_error', 'Unexpected error sending through Xoxzo', undefined, {
        cause: error,
        mayHaveBeenSent: true,
      });
    }
    const { kind, status, body, mayHaveBeenSent } = error;
    const details = { cause: error, retryAfterMs: error.retryAfterMs, mayHaveBeenSent };
    const via = templateId ? ` (template ${templateId})` : '';
    switch (kind) {
      case 'recipient_rejected':
        return SmsDeliveryError.of(kind, 'Xoxzo rejected the recipient number', status, details);
      case 'credentials':
        this.logger.error(
          `Xoxzo rejected the credentials (${status ?? 'not set'}): check XOXZO_API_SID/XOXZO_API_AUTH_TOKEN`,
        );
        break;
      case 'no_credit':
        this.logger.error(`Xoxzo refused the send (403, out of credit?): ${describe(body)}`);
        break;
      case 'rejected_request':
        // Bad sender ID, message too long, unknown or unapproved template, wrong API URL: will not fix itself.
        this.logger.error(`Xoxzo rejected the request${via} (${status}): ${describe(body)}`);
        break;
      default:
        this.logger.warn(`${error.message}${via}${mayHaveBeenSent ? ' (the SMS may have gone out)' : ''}`);
    }
    return SmsDeliveryError.of(kind, error.message, status, details);
  }
}

/** Xoxzo's error bodies name fields and reasons, never our secrets; cap their length anyway. */
function describe(body: Record<string, unknown> | undefined): string {
  return body ? JSON.stringify(body).slice(0, 300) : '(no JSON body)';
}
