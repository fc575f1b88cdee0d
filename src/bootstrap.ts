import helmet from '@fastify/helmet';
import { ConsoleLogger, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import type { AppConfig } from './app-config.js';

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
  // The client IP (limits, audit) is the socket's unless TRUST_PROXY names the proxies in front.
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, trustProxy: config.http.trustProxy });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, databaseUrl),
    adapter,
    {
      logger,
      abortOnError: false,
    },
  );
  // JSON only: Fastify's default text/plain parser would hand a string to the DTOs; refuse it with 415.
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  // A JSON API: no inline content of ours to allow, so the strictest policy fits.
  await app.register(helmet, {
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  });
  // Browsers may call the API only from the listed origins; tokens travel in headers, never cookies.
  app.enableCors({
    origin: config.http.corsOrigins.length ? config.http.corsOrigins : false,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
    maxAge: 600,
  });
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
