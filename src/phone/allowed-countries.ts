import { validationFailed } from '../common/index.js';
import { countryOf } from './phone.js';

/**
 * `SMS_ALLOWED_COUNTRIES`: PINs go only to numbers of these countries (empty: anywhere). Checked at
 * registration, before the account exists, and again before every send (the list may have changed since).
 */
export function assertAllowedCountry(phone: string, allowed: readonly string[]): void {
  const country = countryOf(phone);
  if (allowed.length && (!country || !allowed.includes(country))) {
    throw validationFailed(`phone: SMS cannot be sent to this country (allowed: ${allowed.join(', ')})`);
  }
}
