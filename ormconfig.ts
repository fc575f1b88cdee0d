/**
 * For the TypeORM CLI only (`npm run migration:run`, `migration:generate`, `migration:revert`, `migration:show`); the app builds
 * its options from the same `dataSourceOptions`. Without DATABASE_URL the CLI uses the same embedded
 * PostgreSQL the app uses (under DATA_DIR), started for the command and stopped when it exits.
 */
import { DataSource } from 'typeorm';
import { loadConfig } from './src/app-config.js';
import { dataSourceOptions } from './src/data-source.js';
import { embeddedPostgresDir, startEmbeddedPostgres } from './src/database/embedded-postgres.js';

const config = loadConfig(process.env);
let url = config.database.url;
if (!url) {
  const pg = await startEmbeddedPostgres({ dir: embeddedPostgresDir(config.database.dataDir) });
  url = pg.url;
}

export default new DataSource(dataSourceOptions(url));
