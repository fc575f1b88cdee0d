import { HttpService } from '@nestjs/axios';
import { Injectable, Logger } from '@nestjs/common';
import { AxiosError, AxiosResponse } from 'axios';
import { firstValueFrom } from 'rxjs';
import { AppConfig } from '../config/app-config.js';
import { OutgoingSms, SentSms, SmsDeliveryError, SmsSender } from './sms-sender.js';

type XoxzoErrorBody = Record<string, unknown> | undefined;

/**
 * Freeform SMS through Xoxzo: `POST {XOXZO_API_URL}/sms/messages/` (trailing slash), HTTP Basic auth
 * (SID:token), form-encoded `recipient`, `sender`, `message`. `201 [{"msgid"}]` is success; anything else,
 * a timeout or a transport error is an `SmsDeliveryError`.
 */
@Injectable()
export class XoxzoSmsSender extends SmsSender {
  private readonly logger = new Logger(XoxzoSmsSender.name);
  private readonly xoxzo: AppConfig['sms']['xoxzo'];

  constructor(
    config: AppConfig,
    private readonly http: HttpService,
  ) {
    super();
    this.xoxzo = config.sms.xoxzo;
  }

  async send(sms: OutgoingSms): Promise<SentSms> {
    const form = new URLSearchParams({ recipient: sms.to, sender: this.xoxzo.sender, message: sms.text });
    let response: AxiosResponse<unknown>;
    try {
      response = await firstValueFrom(
        this.http.post<unknown>(`${this.xoxzo.apiUrl}/sms/messages/`, form.toString(), {
          auth: { username: this.xoxzo.sid ?? '', password: this.xoxzo.authToken ?? '' },
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
            Accept: 'application/json',
          },
          timeout: this.xoxzo.timeoutMs,
          signal: AbortSignal.timeout(this.xoxzo.timeoutMs),
          maxContentLength: 64 * 1024,
          maxRedirects: 0,
          validateStatus: () => true,
        }),
      );
    } catch (error) {
      const detail = error instanceof AxiosError ? (error.code ?? error.message) : String(error);
      this.logger.warn(`Xoxzo unreachable: ${detail}`);
      throw new SmsDeliveryError('unavailable', `Xoxzo unreachable: ${detail}`);
    }
    return this.interpret(response);
  }

  private interpret(response: AxiosResponse<unknown>): SentSms {
    const { status } = response;
    if (status === 200 || status === 201) {
      const messageId = extractMsgid(response.data);
      if (!messageId) this.logger.warn(`Xoxzo accepted the SMS (${status}) but returned no msgid`);
      return { messageId };
    }
    const body = (typeof response.data === 'object' ? response.data : undefined) as XoxzoErrorBody;
    if (status === 400 && body && 'recipient' in body) {
      throw new SmsDeliveryError('recipient_rejected', 'Xoxzo rejected the recipient number', status);
    }
    // Configuration alarms are logged at error level: they will not fix themselves.
    if (status === 400) this.logger.error(`Xoxzo rejected the request (400): ${describe(body)}`);
    else if (status === 401)
      this.logger.error('Xoxzo rejected the credentials (401): check XOXZO_API_SID/XOXZO_API_AUTH_TOKEN');
    else if (status === 403)
      this.logger.error(`Xoxzo refused the send (403, out of credit?): ${describe(body)}`);
    else this.logger.warn(`Xoxzo answered ${status}`);
    throw new SmsDeliveryError('unavailable', `Xoxzo answered ${status}`, status);
  }
}

function extractMsgid(data: unknown): string | null {
  const first: unknown = Array.isArray(data) ? data[0] : data;
  if (typeof first === 'object' && first !== null && 'msgid' in first) {
    const { msgid } = first;
    if (typeof msgid === 'string' && /^[A-Za-z0-9]{1,64}$/.test(msgid)) return msgid;
  }
  return null;
}

/** Xoxzo's error bodies name fields and reasons, never our secrets; cap their length anyway. */
function describe(body: XoxzoErrorBody): string {
  return body ? JSON.stringify(body).slice(0, 300) : '(no JSON body)';
}
