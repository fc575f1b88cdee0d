/**
 * Every abuse limit off (0 = off; the per-name failure count can only be pushed to its maximum), for tests
 * and benchmarks that log in as often as they need. Tests of the limits turn them on explicitly.
 */
export const LIMITS_OFF: Record<string, string> = {
  FRAUD_GUARD: 'off',
  REGISTRATION_LIMIT_PER_IP_HOUR: '0',
  REGISTRATION_LIMIT_PER_EMAIL_HOUR: '0',
  REGISTRATION_SMS_LIMIT_GLOBAL_PER_MINUTE: '0',
  PIN_CONSECUTIVE_FAILURE_LIMIT: '100',
  SMS_LIMIT_PER_PHONE_HOUR: '0',
  SMS_LIMIT_PER_PHONE_DAY: '0',
  SMS_LIMIT_PER_ACCOUNT_HOUR: '0',
  SMS_LIMIT_PER_IP_HOUR: '0',
  SMS_LIMIT_GLOBAL_PER_MINUTE: '0',
  LOGIN_LIMIT_PER_IP_15MIN: '0',
  LOGIN_FREE_FAILURES: '100',
  LOGIN_LOCKOUT_THRESHOLD: '0',
  PIN_CHECKS_PER_ACCOUNT_15MIN: '0',
};

/** What a test in production mode must accept to run with `LIMITS_OFF` (see `UNSAFE_SETTINGS`). */
export const LIMITS_OFF_UNSAFE = Object.keys(LIMITS_OFF).join(',');
