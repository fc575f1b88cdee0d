import {
  type CountryCode,
  isSupportedCountry as isSupported,
  parsePhoneNumberFromString,
} from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/metadata.max.json';

/**
 * Number types that can receive an SMS. Premium-rate, toll-free, shared-cost, UAN, pager and VoIP ranges
 * are refused: they are where SMS pumping (toll fraud) sends its traffic.
 */
const SMS_CAPABLE = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

/**
 * The E.164 form (`+818012345209`) of an international number, or `undefined` if it is not a valid
 * number (full metadata: ranges are checked, not only lengths) of a type that takes SMS. Local formats without a country code are
 * refused: the caller must send `+<country code>...`.
 */
export function toE164(input: string): string | undefined {
  if (!/^\+[0-9 ()\-.]{4,30}$/.test(input.trim())) return undefined;
  const parsed = parsePhoneNumberFromString(input.trim(), metadata);
  // The digits typed must be the E.164 digits: a kept trunk 0 (`+81 080…`) is refused, as Xoxzo refuses it.
  const sameDigits = parsed?.number.slice(1) === input.replace(/\D/g, '');
  return parsed?.isValid() && sameDigits && SMS_CAPABLE.has(parsed.getType() ?? '')
    ? parsed.number
    : undefined;
}

/** `+818012345209` → `+81******5209`: enough for the user to recognise, not enough to harvest. */
export function maskPhone(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164, metadata);
  const prefix = parsed ? `+${parsed.countryCallingCode}` : e164.slice(0, 3);
  const rest = e164.slice(prefix.length);
  const visible = Math.min(4, Math.max(0, rest.length - 2));
  return prefix + '*'.repeat(rest.length - visible) + rest.slice(rest.length - visible);
}

/** ISO 3166-1 alpha-2 country of an E.164 number (`JP`), if the number is tied to one country. */
export function countryOf(e164: string): string | undefined {
  return parsePhoneNumberFromString(e164, metadata)?.country;
}

/** Whether `code` is an ISO 3166-1 alpha-2 country with a telephone numbering plan (`GB`, not `UK`). */
export function isSupportedCountry(code: string): boolean {
  return isSupported(code as CountryCode, metadata);
}
