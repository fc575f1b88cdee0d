import type { Type } from '@nestjs/common';
import { AUDIT_ENTITIES, AuditModule } from './audit/audit.module.js';
import { AUTH_ENTITIES, AuthModule } from './auth/auth.module.js';
import type { Entities } from './database/data-source-options.js';
import { HealthModule } from './health/health.module.js';
import { PHONE_ENTITIES, PhoneModule } from './phone/phone.module.js';
import { RATE_LIMIT_ENTITIES, RateLimitModule } from './rate-limit/rate-limit.module.js';
import { SMS_ENTITIES, SmsModule } from './sms/sms.module.js';
import { USERS_ENTITIES, UsersModule } from './users/users.module.js';

/**
 * The feature modules and the tables each owns. Adding a module is one line here (and its migration in
 * `src/database/migrations/index.ts`); its controllers are protected by the global guard without more.
 */
export const FEATURES: { module: Type; entities?: Entities }[] = [
  { module: AuditModule, entities: AUDIT_ENTITIES },
  { module: RateLimitModule, entities: RATE_LIMIT_ENTITIES },
  { module: UsersModule, entities: USERS_ENTITIES },
  { module: PhoneModule, entities: PHONE_ENTITIES },
  { module: AuthModule, entities: AUTH_ENTITIES },
  { module: SmsModule, entities: SMS_ENTITIES },
  { module: HealthModule },
];
