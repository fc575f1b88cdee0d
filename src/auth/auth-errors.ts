import { HttpStatus } from '@nestjs/common';
import { ApiException, ErrorCode } from '../common/index.js';

/** Every error auth answers with, in one place (the common ones are in `src/common/errors/errors.ts`). */

/** Unknown email and wrong password: one error, so the answer does not tell them apart. */
export function invalidCredentials(): ApiException {
  return new ApiException(
    HttpStatus.UNAUTHORIZED,
    ErrorCode.INVALID_CREDENTIALS,
    'Email or password is incorrect',
  );
}

export function emailTaken(): ApiException {
  return new ApiException(
    HttpStatus.CONFLICT,
    ErrorCode.EMAIL_TAKEN,
    'An account with this email already exists',
  );
}

export function phoneTaken(): ApiException {
  return new ApiException(
    HttpStatus.CONFLICT,
    ErrorCode.PHONE_TAKEN,
    'This phone number is already verified on another account',
  );
}

/** `401 UNAUTHENTICATED` with the RFC 6750 challenge header. */
export function unauthenticated(tokenPresented: boolean): ApiException {
  return new ApiException(
    HttpStatus.UNAUTHORIZED,
    ErrorCode.UNAUTHENTICATED,
    tokenPresented
      ? 'The access token is invalid, expired or of the wrong kind'
      : 'An access token is required',
    {},
    { 'WWW-Authenticate': tokenPresented ? 'Bearer error="invalid_token"' : 'Bearer' },
  );
}

/** A genuine partial token on a full-access route: finish the second factor (RFC 9470). */
export function secondFactorRequired(): ApiException {
  return new ApiException(
    HttpStatus.UNAUTHORIZED,
    ErrorCode.SECOND_FACTOR_REQUIRED,
    'Complete the second factor (POST /auth/2fa/verify) to use this route',
    {},
    {
      'WWW-Authenticate':
        'Bearer error="insufficient_user_authentication", error_description="SMS PIN required"',
    },
  );
}

/** A sensitive route, and the session's second factor is older than it accepts (RFC 9470 `max_age`). */
export function stepUpRequired(maxAgeSeconds: number): ApiException {
  return new ApiException(
    HttpStatus.UNAUTHORIZED,
    ErrorCode.STEP_UP_REQUIRED,
    `Confirm with a new PIN (POST /auth/step-up) to use this route: the second factor must be at most ${maxAgeSeconds} s old`,
    { maxAge: maxAgeSeconds },
    {
      'WWW-Authenticate': `Bearer error="insufficient_user_authentication", max_age=${maxAgeSeconds}`,
    },
  );
}

export function challengeExpired(): ApiException {
  return new ApiException(
    HttpStatus.UNAUTHORIZED,
    ErrorCode.CHALLENGE_CLOSED,
    'This login attempt has expired: log in again',
  );
}

export function challengeClosed(): ApiException {
  return new ApiException(
    HttpStatus.UNAUTHORIZED,
    ErrorCode.CHALLENGE_CLOSED,
    'This login attempt is closed (used, locked or expired): log in again',
  );
}

export function pinExpired(): ApiException {
  return new ApiException(
    HttpStatus.UNAUTHORIZED,
    ErrorCode.PIN_EXPIRED,
    'This PIN has expired: ask for a new one',
  );
}

export function pinInvalid(attemptsLeft: number): ApiException {
  return new ApiException(HttpStatus.UNAUTHORIZED, ErrorCode.PIN_INVALID, 'The PIN is not correct', {
    attemptsLeft,
  });
}

export function resendTooSoon(retryAfter: number): ApiException {
  return new ApiException(
    HttpStatus.TOO_MANY_REQUESTS,
    ErrorCode.RESEND_TOO_SOON,
    `Wait ${retryAfter} s before asking for another PIN`,
    { retryAfter },
    { 'Retry-After': String(retryAfter) },
  );
}

/** The account's second factor is suspended after too many consecutive wrong PINs. */
export function secondFactorLocked(retryAfter: number): ApiException {
  return new ApiException(
    HttpStatus.TOO_MANY_REQUESTS,
    ErrorCode.SECOND_FACTOR_LOCKED,
    'Too many wrong PINs: the second factor of this account is suspended for now',
    { retryAfter },
    { 'Retry-After': String(retryAfter) },
  );
}

export function smsUnavailable(): ApiException {
  return new ApiException(
    HttpStatus.SERVICE_UNAVAILABLE,
    ErrorCode.SMS_UNAVAILABLE,
    'The verification SMS could not be sent; please try again shortly',
  );
}

export function refreshInvalid(): ApiException {
  return new ApiException(
    HttpStatus.UNAUTHORIZED,
    ErrorCode.REFRESH_INVALID,
    'The refresh token is not valid: log in again',
  );
}
