import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';

export const PASSWORD_MIN_LENGTH = 8;
/** Long enough for passphrases and managers, short enough that hashing cannot be used to burn CPU. */
export const PASSWORD_MAX_LENGTH = 128;

/**
 * Emails are compared as one form: NFKC-normalised (full-width and other look-alike compatibility forms
 * become plain characters), trimmed and lower-cased on the way in.
 */
export function normaliseEmail(value: string): string {
  return value.normalize('NFKC').trim().toLowerCase();
}

export function IsLoginEmail(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? normaliseEmail(value) : value)),
    IsString(),
    MaxLength(254),
    IsEmail({}, { message: 'email must be a valid email address' }),
  );
}

export function IsPassword(minLength: number): PropertyDecorator {
  return applyDecorators(IsString(), MinLength(minLength), MaxLength(PASSWORD_MAX_LENGTH));
}
