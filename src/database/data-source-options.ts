import type { DataSourceOptions } from 'typeorm';
import { LoginAttempt } from '../auth/second-factor/login-attempt.entity.js';
import { RefreshToken } from '../auth/sessions/refresh-token.entity.js';
import { Session } from '../auth/sessions/session.entity.js';
import { AuthEvent } from '../audit/auth-event.entity.js';
import { LoginFailure } from '../auth/password/login-failure.entity.js';
import { RateLimitCounter } from '../rate-limit/rate-limit-counter.entity.js';
import { SmsMessage } from '../sms/sms-message.entity.js';
import { User } from '../users/user.entity.js';
import { InitialSchema1795625740672 } from './migrations/1795625740672-InitialSchema.js';
import { AbuseLimitsAndAudit1795626441053 } from './migrations/1795626441053-AbuseLimitsAndAudit.js';
import { SmsDeliveryAndLocale1795627558653 } from './migrations/1795627558653-SmsDeliveryAndLocale.js';
import { DropLoginAttemptSmsMessageId1795631422843 } from './migrations/1795631422843-DropLoginAttemptSmsMessageId.js';

export const ENTITIES = [
  User,
  LoginAttempt,
  Session,
  RefreshToken,
  RateLimitCounter,
  LoginFailure,
  AuthEvent,
  SmsMessage,
];
/** In order. New migrations: `npm run migration:generate -- src/database/migrations/<Name>`, then list here. */
export const MIGRATIONS = [
  InitialSchema1795625740672,
  AbuseLimitsAndAudit1795626441053,
  SmsDeliveryAndLocale1795627558653,
  DropLoginAttemptSmsMessageId1795631422843,
];

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
