import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiErrorBody, ApiException } from './api.exception.js';
import { ErrorCode } from './error-codes.js';

const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  [HttpStatus.BAD_REQUEST]: ErrorCode.VALIDATION_FAILED,
  [HttpStatus.UNAUTHORIZED]: ErrorCode.UNAUTHENTICATED,
  [HttpStatus.NOT_FOUND]: ErrorCode.NOT_FOUND,
  [HttpStatus.METHOD_NOT_ALLOWED]: ErrorCode.METHOD_NOT_ALLOWED,
  [HttpStatus.PAYLOAD_TOO_LARGE]: ErrorCode.PAYLOAD_TOO_LARGE,
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  [HttpStatus.SERVICE_UNAVAILABLE]: ErrorCode.SERVICE_UNAVAILABLE,
};

/** Errors raised by Fastify itself (body parsing, limits) carry a numeric `statusCode`. */
interface FastifyLikeError {
  statusCode: number;
  code?: string;
  message: string;
}

/**
 * Renders every error as `{ statusCode, code, message, ... }`. Unknown errors become a 500 with no detail
 * (the detail goes to the log, not the client).
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApiExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { body, headers } = this.toBody(exception);
    for (const [name, value] of Object.entries(headers)) void reply.header(name, value);
    void reply.status(body.statusCode).type('application/json; charset=utf-8').send(body);
  }

  private toBody(exception: unknown): { body: ApiErrorBody; headers: Record<string, string> } {
    // The Fastify adapter wraps Fastify's own errors (bad JSON, body too large) in an HttpException.
    if (exception instanceof HttpException && isFastifyError(exception.cause))
      return this.toBody(exception.cause);
    if (exception instanceof ApiException) {
      return { body: exception.getResponse(), headers: exception.headers };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? (response as { message: string | string[] }).message
          : exception.message;
      return { body: this.generic(status, message), headers: {} };
    }
    if (isFastifyError(exception) && exception.statusCode >= 400 && exception.statusCode < 500) {
      const message =
        exception.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || exception.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? 'Request body is not valid JSON'
          : exception.message;
      return { body: this.generic(exception.statusCode, message), headers: {} };
    }
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    return {
      body: {
        statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
        code: ErrorCode.INTERNAL_ERROR,
        message: 'Internal server error',
      },
      headers: {},
    };
  }

  private generic(status: number, message: string | string[]): ApiErrorBody {
    const code =
      CODE_BY_STATUS[status] ?? (status >= 500 ? ErrorCode.INTERNAL_ERROR : ErrorCode.VALIDATION_FAILED);
    return { statusCode: status, code, message };
  }
}

function isFastifyError(e: unknown): e is FastifyLikeError {
  return e instanceof Error && typeof (e as Partial<FastifyLikeError>).statusCode === 'number';
}
