import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RateLimitCounter } from './rate-limit-counter.entity.js';
import { RateLimitRefusals } from './rate-limit-refusals.js';
import { PostgresRateLimitStore, RateLimitStore } from './rate-limit.store.js';
import { RateLimiter } from './rate-limiter.service.js';
import { RateLimitRetention } from './rate-limit.retention.js';

export const RATE_LIMIT_ENTITIES = [RateLimitCounter];

/**
 * Fixed-window limits shared by all instances through PostgreSQL. Global: any module may inject
 * `RateLimiter` and guard an action with its own buckets; `RateLimitStore` is the seam for another store.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature(RATE_LIMIT_ENTITIES)],
  providers: [
    { provide: RateLimitStore, useClass: PostgresRateLimitStore },
    RateLimitRefusals,
    RateLimiter,
    RateLimitRetention,
  ],
  exports: [RateLimitStore, RateLimitRefusals, RateLimiter],
})
export class RateLimitModule {}
