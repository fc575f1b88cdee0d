import { type Env, int } from '../../config/index.js';

/** The password step's limits (0 turns a limit off). */
export function loadLoginConfig(env: Env) {
  const lockoutThreshold = env.read('LOGIN_LOCKOUT_THRESHOLD', int(100, 0, 100));
  env.unsafe('LOGIN_LOCKOUT_THRESHOLD', lockoutThreshold === 0, '0 turns the lockout off');
  return {
    /** Password checks per client IP per 15 minutes. */
    perIp15Min: env.limit('LOGIN_LIMIT_PER_IP_15MIN', 100, 1000000),
    /** Consecutive failures per login name before delays start (1 s, 2 s, 4 s … up to the maximum). */
    freeFailures: env.read('LOGIN_FREE_FAILURES', int(5, 1, 100)),
    maxDelaySeconds: env.read('LOGIN_MAX_DELAY_SECONDS', int(900, 1, 86400)),
    /** Consecutive failures that lock the login name (NIST: at most 100), and for how long. */
    lockoutThreshold,
    lockoutSeconds: env.read('LOGIN_LOCKOUT_SECONDS', int(3600, 1, 604800)),
  };
}

export abstract class LoginConfig {}
export interface LoginConfig extends ReturnType<typeof loadLoginConfig> {}
