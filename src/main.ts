import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './bootstrap.js';
import { ConfigError, loadConfig } from './app-config.js';
import { embeddedPostgresDir, startEmbeddedPostgres } from './database/embedded-postgres.js';

async function main(): Promise<void> {
  const logger = new Logger('Bootstrap');
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.fatal(error.message);
    process.exit(1);
  }
  for (const warning of config.warnings) logger.warn(warning);
  if (config.jwt.secretGenerated) {
    logger.warn(
      'JWT_SECRET is not set: using a random secret for this process (tokens and PINs end with it)',
    );
  }

  let databaseUrl = config.database.url;
  let stopDatabase = async () => {};
  if (!databaseUrl) {
    const dir = embeddedPostgresDir(config.database.dataDir);
    logger.log(`DATABASE_URL is not set: starting embedded PostgreSQL in ${dir}`);
    const pg = await startEmbeddedPostgres({ dir, onNotice: (message) => logger.warn(message) });
    databaseUrl = pg.url;
    stopDatabase = () => pg.stop();
  }

  const app = await createApp(config, databaseUrl);
  // Nest closes the app (and its database pool) on SIGTERM/SIGINT; the embedded server stops after it.
  const close = app.close.bind(app);
  app.close = async () => {
    await close();
    await stopDatabase();
  };
  await app.listen(config.http.port, config.http.host);
  logger.log(`Listening on http://${config.http.host}:${config.http.port}`);
}

await main();
