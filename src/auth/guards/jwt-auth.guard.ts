import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiException, ErrorCode, IS_PUBLIC, type Principal } from '../../common/index.js';
import { PARTIAL_AUTH } from './partial-auth.decorator.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { InvalidTokenError, TokensService, unauthenticated } from '../sessions/tokens.service.js';

/**
 * Global guard (APP_GUARD): protected by default. A route needs a full-access token of a live session,
 * unless it is `@Public()`, or `@PartialAuth()` (then it needs a partial token and refuses full ones).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
    private readonly sessions: SessionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw unauthenticated(false);

    request.user = this.reflector.getAllAndOverride<boolean>(PARTIAL_AUTH, targets)
      ? await this.partial(token)
      : await this.full(token);
    return true;
  }

  private async partial(token: string): Promise<Principal> {
    try {
      return await this.tokens.verifyPartial(token);
    } catch (error) {
      if (error instanceof InvalidTokenError && error.expired) {
        throw new ApiException(
          HttpStatus.UNAUTHORIZED,
          ErrorCode.CHALLENGE_CLOSED,
          'This login attempt has expired: log in again',
        );
      }
      throw unauthenticated(true);
    }
  }

  private async full(token: string): Promise<Principal> {
    const principal = await this.tokens.verifyAccess(token).catch(() => undefined);
    if (principal) {
      if (!(await this.sessions.isActive(principal.sessionId, principal.userId))) throw unauthenticated(true);
      return principal;
    }
    // A genuine partial token here means "password done, PIN not yet": tell the client to finish (RFC 9470).
    if (
      await this.tokens.verifyPartial(token).then(
        () => true,
        () => false,
      )
    ) {
      throw new ApiException(
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
    throw unauthenticated(true);
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)$/i.exec(header ?? '');
  return match?.[1];
}
