import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { OutgoingSms, SentSms, SmsSender } from './sms-sender.js';

/**
 * Development driver: prints the SMS (PIN included) to the log instead of sending it. The only place a PIN
 * may appear in a log; production refuses to start with it unless SMS_DRIVER=console is set explicitly.
 */
@Injectable()
export class ConsoleSmsSender extends SmsSender {
  private readonly logger = new Logger('ConsoleSms');

  send(sms: OutgoingSms): Promise<SentSms> {
    this.logger.log(`SMS to ${sms.to}: ${sms.text}`);
    return Promise.resolve({ messageId: `console-${randomUUID()}` });
  }
}
