import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { purgeRows, RetentionTask } from '../database/retention.js';
import { DestinationStat } from './destination-stat.entity.js';

/** The fraud guard's minutes go after a day (the window is at most one); ended pauses after a week. */
@Injectable()
export class PhoneRetention extends RetentionTask {
  constructor(@InjectRepository(DestinationStat) private readonly rows: Repository<DestinationStat>) {
    super();
  }

  async purge(): Promise<Record<string, number>> {
    return {
      destination_stats: await purgeRows(
        this.rows,
        'destination_stats',
        `DELETE FROM destination_stats WHERE minute < now() - interval '1 day'`,
      ),
      destination_pauses: await purgeRows(
        this.rows,
        'destination_pauses',
        `DELETE FROM destination_pauses WHERE until < now() - interval '7 days'`,
      ),
    };
  }
}
