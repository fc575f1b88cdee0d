import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ApiExceptionFilter } from './common/errors/api-exception.filter.js';
import { JsonOnlyGuard } from './common/http/json-only.guard.js';
import { createValidationPipe } from './common/http/validation.js';
import { type AppConfig, configModule } from './app-config.js';
import { dataSourceOptions } from './database/data-source-options.js';
import { MigrationsRunner } from './database/migrations.runner.js';
import { RetentionService } from './database/retention.service.js';
import { HealthModule } from './health/health.module.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';
import { SmsModule } from './sms/sms.module.js';
import { UsersModule } from './users/users.module.js';

/**
 * The application. `config` is validated before this is built (see `loadConfig`), and `databaseUrl` is the
 * configured DATABASE_URL or the embedded PostgreSQL's. Pipes, filter and guard are registered here, so the
 * e2e tests run exactly the production pipeline.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, databaseUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        configModule(config),
        TypeOrmModule.forRoot(dataSourceOptions(databaseUrl)),
        RateLimitModule,
        AuditModule,
        UsersModule,
        AuthModule,
        SmsModule,
        HealthModule,
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        { provide: APP_GUARD, useClass: JsonOnlyGuard },
        MigrationsRunner,
        RetentionService,
      ],
    };
  }
}
