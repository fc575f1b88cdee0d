import { HttpStatus } from '@nestjs/common';
import { ApiException } from '../common/api.exception.js';
import { ErrorCode } from '../common/error-codes.js';

/** Unknown email and wrong password: one error, so the answer does not tell them apart. */
export function invalidCredentials(): ApiException {
  return new ApiException(
    HttpStatus.UNAUTHORIZED,
    ErrorCode.INVALID_CREDENTIALS,
    'Email or password is incorrect',
  );
}
