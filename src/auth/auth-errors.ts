import { HttpStatus } from '@nestjs/common';
import { ApiException, ErrorCode } from '../common/index.js';

/** Unknown email and wrong password: one error, so the answer does not tell them apart. */
export function invalidCredentials(): ApiException {
  return new ApiException(
    HttpStatus.UNAUTHORIZED,
    ErrorCode.INVALID_CREDENTIALS,
    'Email or password is incorrect',
  );
}
