import type { DataSourceOptions, EntitySchema, MixedList } from 'typeorm';
import { MIGRATIONS } from './migrations/index.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type Entities = MixedList<Function | string | EntitySchema>;

/** PostgreSQL options for these entities and the committed migrations (which the app runs at start). */
export function postgresOptions(url: string, entities: Entities): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations: MIGRATIONS,
    synchronize: false,
    installExtensions: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    extra: { max: 10, connectionTimeoutMillis: 5000 },
  };
}
