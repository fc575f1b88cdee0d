import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength, MinLength, ValidateBy } from 'class-validator';
import { PASSWORD_MAX_LENGTH, passwordProblem } from '../password/password-policy.js';

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

/**
 * A new password (registration, change, reset): the password policy (`passwordProblem`), judged against
 * the email and phone of the same body when it has them.
 */
export function IsNewPassword(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    ValidateBy({
      name: 'isNewPassword',
      validator: {
        validate: (value: unknown, args) =>
          typeof value === 'string' && passwordProblem(value, args?.object ?? {}) === undefined,
        defaultMessage: (args) =>
          passwordProblem(String(args?.value), args?.object ?? {}) ?? 'password is not accepted',
      },
    }),
  );
}
