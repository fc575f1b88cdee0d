import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import passport from 'passport';
import { createValidationPipe } from '../../common/index.js';
import type { User } from '../../users/user.entity.js';
import { invalidCredentials } from '../auth-errors.js';
import { LoginDto } from '../dto/login.dto.js';
import { LocalStrategy } from './local.strategy.js';

type PasswordRequest = FastifyRequest & { passwordUser?: User };

/**
 * passport-local for `POST /auth/login`; the handler reads the user with `@PasswordUser()`.
 *
 * Guards run before pipes, so this guard validates (and normalises) the body with the app's pipe first: a
 * malformed body is a 400 `VALIDATION_FAILED`, not a failed login. The strategy is this application's own
 * instance, not one looked up by name in passport's process-wide registry (several app instances in one
 * process, as in the tests, would use each other's), and each request gets its own copy of it: passport
 * writes the request's success/fail callbacks onto the strategy object it is given, so a shared one mixes
 * up concurrent logins (the abuse test "answers simultaneous logins of different people each with their
 * own result" fails without the copy).
 */
@Injectable()
export class LocalAuthGuard implements CanActivate {
  private readonly validation = createValidationPipe();

  constructor(private readonly strategy: LocalStrategy) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<PasswordRequest>();
    request.body = await this.validation.transform(request.body, { type: 'body', metatype: LoginDto });
    const user = await new Promise<User | false>((resolve, reject) => {
      // The strategy's own errors are ApiExceptions (429, INVALID_CREDENTIALS); anything else is a bug.
      const fail = (error: unknown) => reject(error instanceof Error ? error : new Error('passport failed'));
      const authenticate = passport.authenticate(
        Object.create(this.strategy) as LocalStrategy,
        { session: false },
        (error: unknown, found: User | false) => (error ? fail(error) : resolve(found)),
      ) as (req: unknown, res: unknown, next: (error?: unknown) => void) => void;
      authenticate(request, http.getResponse<FastifyReply>(), fail);
    });
    if (!user) throw invalidCredentials();
    request.passwordUser = user;
    return true;
  }
}

/** The user whose password `LocalAuthGuard` just checked. */
export const PasswordUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): User | undefined =>
    ctx.switchToHttp().getRequest<PasswordRequest>().passwordUser,
);
