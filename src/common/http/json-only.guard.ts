import { CanActivate, ExecutionContext, HttpStatus, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiException } from '../errors/api.exception.js';
import { ErrorCode } from '../errors/error-codes.js';

const ACCEPTS_FORM = 'http:acceptsForm';

/** For the rare route that must take HTML-form bodies (a provider's callback). */
export const AcceptsForm = () => SetMetadata(ACCEPTS_FORM, true);

/**
 * Global guard: the API takes JSON. Form-encoded bodies (which any web page can make a browser send,
 * without CORS) are refused with `415` except on routes marked `@AcceptsForm()`.
 */
@Injectable()
export class JsonOnlyGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const type = context.switchToHttp().getRequest<FastifyRequest>().headers['content-type'] ?? '';
    const isForm = type.split(';')[0].trim().toLowerCase() === 'application/x-www-form-urlencoded';
    if (
      !isForm ||
      this.reflector.getAllAndOverride<boolean>(ACCEPTS_FORM, [context.getHandler(), context.getClass()])
    ) {
      return true;
    }
    throw new ApiException(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      'Send JSON (application/json)',
    );
  }
}
