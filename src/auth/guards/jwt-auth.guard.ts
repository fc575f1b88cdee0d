import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { type FullPrincipal, IS_PUBLIC, type Principal, RECENT_SECOND_FACTOR } from '../../common/index.js';
import { challengeExpired, secondFactorRequired, stepUpRequired, unauthenticated } from '../auth-errors.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { StepUpConfig } from '../step-up/step-up.config.js';
import { InvalidTokenError, TokensService } from '../sessions/tokens.service.js';
import { PARTIAL_AUTH } from './partial-auth.decorator.js';

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
    private readonly stepUp: StepUpConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = routeAccess(this.reflector, context.getHandler(), context.getClass(), this.stepUp);
    if (access === 'public') return true;

    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw unauthenticated(false);

    if (access === 'partial') {
      request.user = await this.partial(token);
      return true;
    }
    const principal = await this.full(token);
    if (access !== 'full' && Date.now() / 1000 - principal.secondFactorAt > access.maxAgeSeconds) {
      throw stepUpRequired(access.maxAgeSeconds);
    }
    request.user = principal;
    return true;
  }

  private async partial(token: string): Promise<Principal> {
    try {
      return await this.tokens.verifyPartial(token);
    } catch (error) {
      if (error instanceof InvalidTokenError && error.expired) throw challengeExpired();
      throw unauthenticated(true);
    }
  }

  private async full(token: string): Promise<FullPrincipal> {
    const principal = await this.tokens.verifyAccess(token).catch(() => undefined);
    if (principal) {
      if (!(await this.sessions.isActive(principal.sessionId, principal.userId))) throw unauthenticated(true);
      return principal;
    }
    // A genuine partial token here means "password done, PIN not yet": tell the client to finish (RFC 9470).
    const partial = await this.tokens.verifyPartial(token).then(
      () => true,
      () => false,
    );
    throw partial ? secondFactorRequired() : unauthenticated(true);
  }
}

/** A full token whose second factor is at most `maxAgeSeconds` old (`@RequireRecentSecondFactor`). */
export interface RecentSecondFactor {
  maxAgeSeconds: number;
}
export type RouteAccess = 'public' | 'partial' | 'full' | RecentSecondFactor;

/** Who may call a route, from its decorators (method first, then controller): what this guard enforces. */
export function routeAccess(
  reflector: Reflector,
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  handler: Function,
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  controller: Function,
  stepUp: StepUpConfig,
): RouteAccess {
  const targets = [handler, controller];
  if (reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return 'public';
  if (reflector.getAllAndOverride<boolean>(PARTIAL_AUTH, targets)) return 'partial';
  const recent = reflector.getAllAndOverride<number | 'default' | undefined>(RECENT_SECOND_FACTOR, targets);
  if (recent === undefined) return 'full';
  return { maxAgeSeconds: recent === 'default' ? stepUp.maxAgeSeconds : recent };
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)$/i.exec(header ?? '');
  return match?.[1];
}
