import { type Env, int } from '../../config/index.js';

/** The password step's limits (0 turns a limit off). */
export function loadLoginConfig(env: Env) {
  return {
    /** Password checks per client IP per 15 minutes. */
    perIp15Min: env.read('LOGIN_LIMIT_PER_IP_15MIN', int(100, 0, 1000000)),
    /** Consecutive failures per login name before delays start (1 s, 2 s, 4 s … up to the maximum). */
    freeFailures: env.read('LOGIN_FREE_FAILURES', int(5, 1, 100)),
    maxDelaySeconds: env.read('LOGIN_MAX_DELAY_SECONDS', int(900, 1, 86400)),
    /** Consecutive failures that lock the login name (NIST: at most 100), and for how long. */
    lockoutThreshold: env.read('LOGIN_LOCKOUT_THRESHOLD', int(100, 0, 100)),
    lockoutSeconds: env.read('LOGIN_LOCKOUT_SECONDS', int(3600, 1, 604800)),
  };
}

export abstract class LoginConfig {}
export interface LoginConfig extends ReturnType<typeof loadLoginConfig> {}
