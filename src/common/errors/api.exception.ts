import { HttpException, HttpStatus } from '@nestjs/common';
import { ErrorCode } from './error-codes.js';

export interface ApiErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string | string[];
  [extra: string]: unknown;
}

/**
 * The one error type the service throws on purpose. Rendered by `ApiExceptionFilter` as
 * `{ statusCode, code, message, ...extra }`, with `headers` set on the response.
 */
export class ApiException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: ErrorCode,
    message: string | string[],
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super({ statusCode: status, code, message, ...extra } satisfies ApiErrorBody, status);
  }

  override getResponse(): ApiErrorBody {
    return super.getResponse() as ApiErrorBody;
  }
}
