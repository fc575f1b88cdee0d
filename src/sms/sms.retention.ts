import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { purgeRows, RetentionTask } from '../database/retention.js';
import { SmsMessage } from './sms-message.entity.js';

/** SMS records (ids, status, cost) are kept 90 days. */
@Injectable()
export class SmsRetention extends RetentionTask {
  constructor(@InjectRepository(SmsMessage) private readonly rows: Repository<SmsMessage>) {
    super();
  }

  async purge(): Promise<Record<string, number>> {
    return {
      sms_messages: await purgeRows(
        this.rows,
        'sms_messages',
        `DELETE FROM sms_messages WHERE created_at < now() - interval '90 days'`,
      ),
    };
  }
}
