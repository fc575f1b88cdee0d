import { ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ApiException } from '../../common/api.exception.js';
import { ErrorCode } from '../../common/error-codes.js';
import { createValidationPipe } from '../../common/validation.js';
import { LoginDto } from '../dto/login.dto.js';

/**
 * passport-local for `POST /auth/login`. Guards run before pipes, so the body is validated (and normalised)
 * here first: a malformed body is a 400, not a failed login.
 */
@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  private readonly validation = createValidationPipe();

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    request.body = await this.validation.transform(request.body, { type: 'body', metatype: LoginDto });
    return (await super.canActivate(context)) as boolean;
  }

  override handleRequest<TUser>(error: unknown, user: TUser | false): TUser {
    if (error instanceof Error) throw error;
    if (!user) throw invalidCredentials();
    return user;
  }
}

export function invalidCredentials(): ApiException {
  return new ApiException(
    HttpStatus.UNAUTHORIZED,
    ErrorCode.INVALID_CREDENTIALS,
    'Email or password is incorrect',
  );
}
