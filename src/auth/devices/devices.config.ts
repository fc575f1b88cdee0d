import { type Env, int } from '../../config/index.js';

export function loadDevicesConfig(env: Env) {
  /** How long a remembered device is trusted (`TRUSTED_DEVICE_DAYS`); 0 turns "remember this device" off. */
  return { trustedDays: env.read('TRUSTED_DEVICE_DAYS', int(30, 0, 365)) };
}

export abstract class DevicesConfig {}
export interface DevicesConfig extends ReturnType<typeof loadDevicesConfig> {}
