import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsString, MaxLength, ValidateBy } from 'class-validator';
import { toE164 } from './phone.js';

/** An international phone number (`+<country code>…`), normalised to E.164 before the handler sees it. */
export function IsInternationalPhone(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    MaxLength(32),
    ValidateBy({
      name: 'isInternationalPhone',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && toE164(value) === value,
        defaultMessage: () => 'phone must be a valid international number in E.164 form, e.g. +818012345678',
      },
    }),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? (toE164(value) ?? value) : value,
    ),
  );
}
