import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { purgeRows, RetentionTask } from '../database/retention.js';
import { RateLimitCounter } from './rate-limit-counter.entity.js';

/** A counter goes when its window has ended. */
@Injectable()
export class RateLimitRetention extends RetentionTask {
  constructor(@InjectRepository(RateLimitCounter) private readonly rows: Repository<RateLimitCounter>) {
    super();
  }

  async purge(): Promise<Record<string, number>> {
    return {
      rate_limit_counters: await purgeRows(
        this.rows,
        'rate_limit_counters',
        `DELETE FROM rate_limit_counters WHERE expires_at < now()`,
      ),
    };
  }
}
