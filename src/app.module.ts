import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { type AppConfig, configModule } from './app-config.js';
import { ApiExceptionFilter } from './common/errors/api-exception.filter.js';
import { JsonOnlyGuard } from './common/http/json-only.guard.js';
import { createValidationPipe } from './common/http/validation.js';
import { dataSourceOptions } from './data-source.js';
import { DatabaseModule } from './database/database.module.js';
import { FEATURES } from './features.js';

/**
 * The composition root. `config` is validated before this is built (see `loadConfig`), and `databaseUrl`
 * is the configured DATABASE_URL or the embedded PostgreSQL's. Pipes, filter and guards are registered
 * here, so the e2e tests run exactly the production pipeline (the global `JwtAuthGuard` comes with
 * `AuthModule`).
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, databaseUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        configModule(config),
        DatabaseModule.forRoot(dataSourceOptions(databaseUrl)),
        ...FEATURES.map((feature) => feature.module),
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        { provide: APP_GUARD, useClass: JsonOnlyGuard },
      ],
    };
  }
}
