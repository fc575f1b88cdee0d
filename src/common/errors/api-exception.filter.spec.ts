import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  ArgumentsHost,
  BadRequestException,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import { ApiExceptionFilter } from './api-exception.filter.js';
import { ApiException } from './api.exception.js';
import { ErrorCode } from './error-codes.js';

/** Records what the filter does to a Fastify reply. */
class FakeReply {
  statusCode: number | undefined;
  contentType: string | undefined;
  body: unknown;
  sends = 0;
  readonly headers: Record<string, string> = {};

  status(code: number): this {
    this.statusCode = code;
    return this;
  }
  code(code: number): this {
    return this.status(code);
  }
  header(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }
  type(contentType: string): this {
    this.contentType = contentType;
    return this;
  }
  send(body: unknown): this {
    this.body = body;
    this.sends += 1;
    return this;
  }
}

function hostFor(reply: FakeReply): ArgumentsHost {
  return {
    switchToHttp: () => ({
      getResponse: () => reply,
      getRequest: () => ({ method: 'GET', url: '/x', headers: {} }),
      getNext: () => () => undefined,
    }),
    getType: () => 'http',
    getArgs: () => [{}, reply],
    getArgByIndex: (index: number) => [{}, reply][index],
  } as unknown as ArgumentsHost;
}

describe(ApiExceptionFilter.name, () => {
  let logged: string[];

  beforeEach(() => {
    logged = [];
    jest
      .spyOn(Logger.prototype, 'error')
      .mockImplementation((message: unknown) => void logged.push(String(message)));
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  function render(exception: unknown): FakeReply {
    const reply = new FakeReply();
    new ApiExceptionFilter().catch(exception, hostFor(reply));
    expect(reply.sends).toBe(1);
    return reply;
  }

  it('renders an unknown Error as 500 INTERNAL_ERROR without its detail', () => {
    const reply = render(new Error('connection to db-prod-7 refused; password=hunter2'));
    expect(reply.statusCode).toBe(500);
    expect(reply.body).toEqual({
      statusCode: 500,
      code: ErrorCode.INTERNAL_ERROR,
      message: 'Internal server error',
    });
    expect(JSON.stringify(reply.body)).not.toContain('hunter2');
    expect(reply.contentType).toMatch(/^application\/json/);
    // The detail goes to the log instead.
    expect(logged.join('\n')).toContain('db-prod-7');
  });

  it('renders a thrown non-Error as 500 INTERNAL_ERROR', () => {
    const reply = render('a string');
    expect(reply.statusCode).toBe(500);
    expect(reply.body).toEqual({
      statusCode: 500,
      code: ErrorCode.INTERNAL_ERROR,
      message: 'Internal server error',
    });
  });

  it('renders HttpException(404) as NOT_FOUND', () => {
    const reply = render(new NotFoundException('Cannot GET /nope'));
    expect(reply.statusCode).toBe(404);
    expect(reply.body).toEqual({ statusCode: 404, code: ErrorCode.NOT_FOUND, message: 'Cannot GET /nope' });
  });

  it('renders a plain HttpException with a string response', () => {
    const reply = render(new HttpException('Gone fishing', HttpStatus.NOT_FOUND));
    expect(reply.body).toEqual({ statusCode: 404, code: ErrorCode.NOT_FOUND, message: 'Gone fishing' });
  });

  it.each([
    [new BadRequestException(['email must be an email']), 400, ErrorCode.VALIDATION_FAILED],
    [new PayloadTooLargeException(), 413, ErrorCode.PAYLOAD_TOO_LARGE],
    [new HttpException('teapot', 418), 418, ErrorCode.VALIDATION_FAILED],
    [new HttpException('bad gateway', 502), 502, ErrorCode.INTERNAL_ERROR],
  ])('maps %p to %i %s', (exception, status, code) => {
    const reply = render(exception);
    expect(reply.statusCode).toBe(status);
    expect(reply.body).toMatchObject({ statusCode: status, code });
  });

  it('keeps the extra fields and headers of an ApiException', () => {
    const reply = render(
      new ApiException(
        HttpStatus.TOO_MANY_REQUESTS,
        ErrorCode.RESEND_TOO_SOON,
        'Wait before asking for another code',
        { retryAfter: 17 },
        { 'Retry-After': '17' },
      ),
    );
    expect(reply.statusCode).toBe(429);
    expect(reply.body).toEqual({
      statusCode: 429,
      code: ErrorCode.RESEND_TOO_SOON,
      message: 'Wait before asking for another code',
      retryAfter: 17,
    });
    expect(reply.headers['retry-after']).toBe('17');
  });

  it('sets the WWW-Authenticate header of an authentication failure', () => {
    const reply = render(
      new ApiException(
        HttpStatus.UNAUTHORIZED,
        ErrorCode.UNAUTHENTICATED,
        'An access token is required',
        {},
        {
          'WWW-Authenticate': 'Bearer',
        },
      ),
    );
    expect(reply.statusCode).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('Bearer');
  });

  it('renders Fastify client errors with their status, and a friendly message for bad JSON', () => {
    const badJson = Object.assign(new Error("Unexpected token '}' in JSON at position 12"), {
      statusCode: 400,
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
    });
    const reply = render(badJson);
    expect(reply.statusCode).toBe(400);
    expect(reply.body).toEqual({
      statusCode: 400,
      code: ErrorCode.VALIDATION_FAILED,
      message: 'Request body is not valid JSON',
    });

    const unsupported = Object.assign(new Error('Unsupported Media Type: text/plain'), {
      statusCode: 415,
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
    });
    expect(render(unsupported).body).toMatchObject({
      statusCode: 415,
      code: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    });
  });

  it('does not leak a Fastify-like error with a 5xx status', () => {
    const reply = render(Object.assign(new Error('internal detail'), { statusCode: 500 }));
    expect(reply.statusCode).toBe(500);
    expect(reply.body).toEqual({
      statusCode: 500,
      code: ErrorCode.INTERNAL_ERROR,
      message: 'Internal server error',
    });
  });
});
