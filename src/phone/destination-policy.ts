import { validationFailed } from '../common/index.js';
import type { PhoneConfig } from './phone.config.js';
import { countryOf } from './phone.js';

/**
 * Non-geographic country codes: international freephone and shared-cost (+800, +808), satellite and
 * international networks (+870, +878, +881, +882, +883), +888, and international premium rate (+979).
 * No user's phone is one; they are where toll fraud sends its traffic. Always refused.
 */
export const NON_GEOGRAPHIC_CODES = ['+800', '+808', '+870', '+878', '+881', '+882', '+883', '+888', '+979'];

/**
 * Whether a PIN may go to this E.164 number: never to a non-geographic code or a blocked prefix (both
 * matched on the number's digits, not on the region a parser guesses), and only to the allowed countries
 * (`SMS_ALLOWED_COUNTRIES`). Checked at registration, before the account exists, and again before every
 * send (the lists may have changed since). Throws `400 VALIDATION_FAILED` on `phone`.
 */
export function assertPinDestination(phone: string, config: PhoneConfig): void {
  if ([...NON_GEOGRAPHIC_CODES, ...config.blockedPrefixes].some((prefix) => phone.startsWith(prefix))) {
    throw validationFailed('phone: PINs cannot be sent to this number range');
  }
  const allowed = config.allowedCountries;
  const country = countryOf(phone);
  if (allowed.length && (!country || !allowed.includes(country))) {
    throw validationFailed(`phone: SMS cannot be sent to this country (allowed: ${allowed.join(', ')})`);
  }
}
