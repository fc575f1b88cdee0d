import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Principal } from '../auth-principal.js';

/** The authenticated caller the global guard attached to the request (`FullPrincipal` on most routes). */
export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal | undefined =>
    ctx.switchToHttp().getRequest<{ user?: Principal }>().user,
);
