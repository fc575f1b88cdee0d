import { dictionary } from '@zxcvbn-ts/language-common';

/** Long enough for passphrases and managers, short enough that hashing cannot be used to burn CPU. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

let common: Set<string> | undefined;

/** zxcvbn-ts' list of the most common passwords (from breach corpora), lower-cased; loaded once. */
function commonPasswords(): Set<string> {
  common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return common;
}

/** Whose password it is: what it must not contain (anything but strings is ignored: this may be a raw body). */
export interface PasswordOwner {
  email?: unknown;
  phone?: unknown;
}

/**
 * Why a new password is refused, or undefined (NIST SP 800-63B-4 §3.1.1.2): 8–128 characters, no composition
 * rules, not a common or breached password, and not the account's own email name (4 characters or more) or
 * phone number (its last 8 digits). The message names the field, as validation messages do.
 */
export function passwordProblem(password: string, owner: PasswordOwner): string | undefined {
  if (password.length < PASSWORD_MIN_LENGTH)
    return `password must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH)
    return `password must be at most ${PASSWORD_MAX_LENGTH} characters`;
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower) || commonPasswords().has(lower.replace(/\s+/g, ''))) {
    return 'password is too common: it is on lists of breached passwords; choose another';
  }
  const name = typeof owner.email === 'string' ? (owner.email.split('@')[0] ?? '').toLowerCase() : '';
  if (name.length >= 4 && lower.includes(name)) return 'password must not contain your email address';
  const digits = typeof owner.phone === 'string' ? owner.phone.replace(/\D/g, '') : '';
  if (digits.length >= 8 && password.replace(/\D/g, '').includes(digits.slice(-8))) {
    return 'password must not contain your phone number';
  }
  return undefined;
}
