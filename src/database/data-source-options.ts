import type { DataSourceOptions } from 'typeorm';
import { LoginAttempt } from '../auth/login-attempt.entity.js';
import { RefreshToken } from '../auth/refresh-token.entity.js';
import { Session } from '../auth/session.entity.js';
import { User } from '../users/user.entity.js';
import { InitialSchema1795625740672 } from './migrations/1795625740672-InitialSchema.js';

export const ENTITIES = [User, LoginAttempt, Session, RefreshToken];
/** In order. New migrations: `npm run migration:generate -- src/database/migrations/<Name>`, then list here. */
export const MIGRATIONS = [InitialSchema1795625740672];

/** One source of database options for the app, the tests and the TypeORM CLI (`ormconfig.ts`). */
export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    installExtensions: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    extra: { max: 10, connectionTimeoutMillis: 5000 },
  };
}
