import { InitialSchema1795625740672 } from './1795625740672-InitialSchema.js';
import { AbuseLimitsAndAudit1795626441053 } from './1795626441053-AbuseLimitsAndAudit.js';
import { SmsDeliveryAndLocale1795627558653 } from './1795627558653-SmsDeliveryAndLocale.js';
import { DropLoginAttemptSmsMessageId1795631422843 } from './1795631422843-DropLoginAttemptSmsMessageId.js';
import { SmsMessageIdAndCheckedAt1795634718206 } from './1795634718206-SmsMessageIdAndCheckedAt.js';
import { SecondFactorFailures1796176306262 } from './1796176306262-SecondFactorFailures.js';
import { FraudGuard1796179429199 } from './1796179429199-FraudGuard.js';
import { SessionFacts1796180031924 } from './1796180031924-SessionFacts.js';
import { AttemptPurpose1796180488710 } from './1796180488710-AttemptPurpose.js';
import { SessionOrigins1796181146527 } from './1796181146527-SessionOrigins.js';
import { TrustedDevices1796183557556 } from './1796183557556-TrustedDevices.js';
import { AuditEventsWithoutIp1796184817150 } from './1796184817150-AuditEventsWithoutIp.js';

/**
 * Every migration, in order. A new one: `npm run migration:generate -- src/database/migrations/<Name>`,
 * review it, then add it here.
 */
export const MIGRATIONS = [
  InitialSchema1795625740672,
  AbuseLimitsAndAudit1795626441053,
  SmsDeliveryAndLocale1795627558653,
  DropLoginAttemptSmsMessageId1795631422843,
  SmsMessageIdAndCheckedAt1795634718206,
  SecondFactorFailures1796176306262,
  FraudGuard1796179429199,
  SessionFacts1796180031924,
  AttemptPurpose1796180488710,
  SessionOrigins1796181146527,
  TrustedDevices1796183557556,
  AuditEventsWithoutIp1796184817150,
];
