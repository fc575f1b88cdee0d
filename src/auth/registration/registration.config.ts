import type { Env } from '../../config/index.js';

/** Registration requests, counted whatever the answer (201 or 409), so probing which accounts exist is bounded. */
export function loadRegistrationConfig(env: Env) {
  return {
    /** Per client IP, at every prefix width (an address or /64, then 5× per /24 or /56, 20× per /48). */
    perIpHour: env.limit('REGISTRATION_LIMIT_PER_IP_HOUR', 10, 100000),
    perEmailHour: env.limit('REGISTRATION_LIMIT_PER_EMAIL_HOUR', 5, 1000),
  };
}

export abstract class RegistrationConfig {}
export interface RegistrationConfig extends ReturnType<typeof loadRegistrationConfig> {}
