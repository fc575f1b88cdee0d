import type { DataSourceOptions } from 'typeorm';
import { postgresOptions } from './database/data-source-options.js';
import { FEATURES } from './features.js';

/** One source of database options for the app, the tests and the TypeORM CLI (`ormconfig.ts`). */
export function dataSourceOptions(url: string): DataSourceOptions {
  return postgresOptions(
    url,
    FEATURES.flatMap((feature) => (feature.entities ?? []) as never[]),
  );
}
