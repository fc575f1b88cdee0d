import { z } from 'zod';
import { type Env, int } from '../config/index.js';

/**
 * The fraud guard (SMS pumping): per destination country and number prefix, PIN messages sent against PINs
 * verified over a sliding window; a destination whose verify rate falls too low is paused.
 */
export function loadFraudGuardConfig(env: Env) {
  const enabled = env.read('FRAUD_GUARD', z.enum(['on', 'off']).default('on')) === 'on';
  env.unsafe('FRAUD_GUARD', !enabled, 'off leaves SMS pumping to premium ranges unchecked');
  const minVerifyRate = env.read(
    'FRAUD_GUARD_MIN_VERIFY_RATE',
    z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().min(0).max(1).default(0.2)),
  );
  env.unsafe('FRAUD_GUARD_MIN_VERIFY_RATE', minVerifyRate === 0, '0 never pauses anything');
  const minSent = env.read('FRAUD_GUARD_MIN_SENT', int(30, 1, 1000000));
  env.unsafe(
    'FRAUD_GUARD_MIN_SENT',
    minSent > 1000,
    'over 1000 lets a destination be pumped that long unjudged',
  );
  return {
    enabled,
    windowMinutes: env.read('FRAUD_GUARD_WINDOW_MINUTES', int(60, 5, 1440)),
    /** Messages a destination must have been sent in the window before its rate is judged. */
    minSent,
    /** Verified ÷ sent below which a destination is paused. */
    minVerifyRate,
    pauseMinutes: env.read('FRAUD_GUARD_PAUSE_MINUTES', int(30, 1, 1440)),
  };
}

export abstract class FraudGuardConfig {}
export interface FraudGuardConfig extends ReturnType<typeof loadFraudGuardConfig> {}
