import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import passport from 'passport';
import { createValidationPipe } from '../../common/index.js';
import type { User } from '../../users/user.entity.js';
import { invalidCredentials } from '../auth-errors.js';
import { LoginDto } from '../dto/login.dto.js';
import { LocalStrategy } from './local.strategy.js';

/**
 * passport-local for `POST /auth/login`. Guards run before pipes, so the body is validated (and normalised)
 * here first: a malformed body is a 400, not a failed login. The strategy is this application's own
 * instance, not one looked up by name in passport's process-wide registry, so several app instances in one
 * process (tests, workers) never use each other's strategy.
 */
@Injectable()
export class LocalAuthGuard implements CanActivate {
  private readonly validation = createValidationPipe();

  constructor(private readonly strategy: LocalStrategy) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user?: User }>();
    request.body = await this.validation.transform(request.body, { type: 'body', metatype: LoginDto });
    const user = await new Promise<User | false>((resolve, reject) => {
      // The strategy's own errors are ApiExceptions (429, INVALID_CREDENTIALS); anything else is a bug.
      const fail = (error: unknown) => reject(error instanceof Error ? error : new Error('passport failed'));
      // passport writes this request's success/fail callbacks onto the strategy object it is given, so each
      // request needs its own (passport does the same for strategies registered by name).
      const authenticate = passport.authenticate(
        Object.create(this.strategy) as LocalStrategy,
        { session: false },
        (error: unknown, found: User | false) => (error ? fail(error) : resolve(found)),
      ) as (req: unknown, res: unknown, next: (error?: unknown) => void) => void;
      authenticate(request, http.getResponse<FastifyReply>(), fail);
    });
    if (!user) throw invalidCredentials();
    request.user = user;
    return true;
  }
}
