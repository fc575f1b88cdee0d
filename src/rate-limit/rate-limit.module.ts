import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoginFailure } from '../auth/password/login-failure.entity.js';
import { RateLimitCounter } from './rate-limit-counter.entity.js';
import { PostgresRateLimitStore, RateLimitStore } from './rate-limit.store.js';
import { RateLimitsService } from './rate-limits.service.js';

/** Limits shared by all instances through PostgreSQL. Global: any module may guard an action with them. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([RateLimitCounter, LoginFailure])],
  providers: [{ provide: RateLimitStore, useClass: PostgresRateLimitStore }, RateLimitsService],
  exports: [RateLimitStore, RateLimitsService],
})
export class RateLimitModule {}
