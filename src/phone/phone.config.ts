import { z } from 'zod';
import { type Env, list, optionalString } from '../config/index.js';
import { isSupportedCountry } from './phone.js';

/**
 * Ranges known for toll fraud (International Revenue Share Fraud) that are not a country of their own:
 * Abkhazia, reachable through Russian (+7 840, +7 940) and Georgian (+995 44) numbering, outside any
 * regulator's reach. `SMS_BLOCKED_PREFIXES` adds your provider's fraud list to these.
 */
export const DEFAULT_BLOCKED_PREFIXES = ['+7840', '+7940', '+99544'];

/** Which numbers the service may send a PIN to. */
export function loadPhoneConfig(env: Env) {
  const value = env.read(
    'SMS_ALLOWED_COUNTRIES',
    optionalString.pipe(
      z
        .string()
        .regex(/^(\*|[A-Za-z]{2}(,[A-Za-z]{2})*)$/, 'must look like JP,US (or * for anywhere)')
        .optional(),
    ),
  );
  if (env.production && value === undefined && env.valid('SMS_ALLOWED_COUNTRIES')) {
    env.problem(
      'SMS_ALLOWED_COUNTRIES',
      'required when NODE_ENV=production: the countries you serve (JP,US), or * for anywhere',
    );
  }
  if (value === '*') env.warnings.push('SMS_ALLOWED_COUNTRIES=*: PINs may go to any country');
  const allowed = value === '*' ? [] : list(value).map((c) => c.toUpperCase());
  const unknown = allowed.filter((c) => !isSupportedCountry(c));
  if (unknown.length) {
    env.problem(
      'SMS_ALLOWED_COUNTRIES',
      `${unknown.join(', ')} not ISO 3166 alpha-2 codes (e.g. GB, not UK)`,
    );
  }
  const blocked = env.read(
    'SMS_BLOCKED_PREFIXES',
    optionalString.pipe(
      z
        .string()
        .regex(/^\+[0-9]{1,14}(,\s*\+[0-9]{1,14})*$/, 'must look like +7840,+7940 (E.164 prefixes)')
        .optional(),
    ),
  );
  return {
    /** ISO 3166 alpha-2 codes PINs may go to; empty = anywhere. */
    allowedCountries: allowed,
    /**
     * E.164 prefixes no PIN goes to, matched on the number's digits (on top of the non-geographic codes):
     * the defaults and the configured ones.
     */
    blockedPrefixes: [...new Set([...DEFAULT_BLOCKED_PREFIXES, ...list(blocked)])],
  };
}

export abstract class PhoneConfig {}
export interface PhoneConfig extends ReturnType<typeof loadPhoneConfig> {}
