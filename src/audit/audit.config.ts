import { type Env, int } from '../config/index.js';

export function loadAuditConfig(env: Env) {
  /** How long `auth_events` are kept (`AUDIT_RETENTION_DAYS`). */
  return { retentionDays: env.read('AUDIT_RETENTION_DAYS', int(365, 1, 3650)) };
}

export abstract class AuditConfig {}
export interface AuditConfig extends ReturnType<typeof loadAuditConfig> {}
