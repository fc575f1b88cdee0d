import { HttpStatus } from '@nestjs/common';
import { ApiException } from './api.exception.js';
import { ErrorCode } from './error-codes.js';

/** Errors any module may throw; auth's own live in `src/auth/auth-errors.ts`. */

/** `400 VALIDATION_FAILED`; each message names its field (`phone: …`). */
export function validationFailed(...messages: string[]): ApiException {
  return new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, messages);
}

export function notFound(message = 'Not found'): ApiException {
  return new ApiException(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, message);
}

/** `429 TOO_MANY_REQUESTS` with `Retry-After` (header) and `retryAfter` (body), in seconds. */
export function tooManyRequests(
  retryAfter: number,
  message = 'Too many requests: try again later',
): ApiException {
  return new ApiException(
    HttpStatus.TOO_MANY_REQUESTS,
    ErrorCode.TOO_MANY_REQUESTS,
    message,
    { retryAfter },
    { 'Retry-After': String(retryAfter) },
  );
}
