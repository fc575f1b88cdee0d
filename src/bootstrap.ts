import { ConsoleLogger, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/app-config.js';

/** Request bodies are small JSON documents; anything bigger is refused with 413 before parsing. */
export const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * Builds the HTTP application (not listening yet). Shared by `main.ts` and the e2e tests, so both run the
 * same adapter, limits and shutdown hooks.
 */
export async function createApp(
  config: AppConfig,
  databaseUrl: string,
  logger: LoggerService | false = defaultLogger(config),
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, trustProxy: false });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, databaseUrl),
    adapter,
    {
      logger,
      abortOnError: false,
    },
  );
  app.enableShutdownHooks();
  return app;
}

/** JSON lines in production (for log pipelines), readable text elsewhere. */
function defaultLogger(config: AppConfig): LoggerService {
  return new ConsoleLogger({
    json: config.nodeEnv === 'production',
    logLevels: ['log', 'warn', 'error', 'fatal'],
  });
}
