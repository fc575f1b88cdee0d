import { HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiException } from './api.exception.js';
import { ErrorCode } from './error-codes.js';

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((m) =>
      m.startsWith(error.property) ? `${field}${m.slice(error.property.length)}` : `${field}: ${m}`,
    );
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Turns class-validator errors into `400 VALIDATION_FAILED` whose `message` lists each field's problem. */
export function validationException(errors: ValidationError[]): ApiException {
  return new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, flatten(errors));
}

/** The global pipe (also used by `LocalAuthGuard`, which must validate before passport runs). */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    exceptionFactory: validationException,
  });
}
