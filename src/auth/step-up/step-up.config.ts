import { type Env, int } from '../../config/index.js';

export function loadStepUpConfig(env: Env) {
  /** How recent the second factor must be for the built-in sensitive routes (phone change, deletion, …). */
  return { maxAgeSeconds: env.read('STEP_UP_MAX_AGE_SECONDS', int(300, 30, 86400)) };
}

export abstract class StepUpConfig {}
export interface StepUpConfig extends ReturnType<typeof loadStepUpConfig> {}
