import { z } from 'zod';
import { type Env, list, optionalString } from '../config/index.js';
import { isSupportedCountry } from './phone.js';

/** Which numbers the service may send a PIN to. */
export function loadPhoneConfig(env: Env) {
  const allowed = list(
    env.read(
      'SMS_ALLOWED_COUNTRIES',
      optionalString.pipe(
        z
          .string()
          .regex(/^[A-Za-z]{2}(,[A-Za-z]{2})*$/, 'must look like JP,US')
          .optional(),
      ),
    ),
  ).map((c) => c.toUpperCase());
  const unknown = allowed.filter((c) => !isSupportedCountry(c));
  if (unknown.length) {
    env.problem(
      'SMS_ALLOWED_COUNTRIES',
      `${unknown.join(', ')} not ISO 3166 alpha-2 codes (e.g. GB, not UK)`,
    );
  }
  /** ISO 3166 alpha-2 codes SMS may go to; empty = anywhere. */
  return { allowedCountries: allowed };
}

export abstract class PhoneConfig {}
export interface PhoneConfig extends ReturnType<typeof loadPhoneConfig> {}
