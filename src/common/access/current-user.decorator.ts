import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Principal } from './principal.js';

/**
 * The caller the global guard verified: a `FullPrincipal` on every protected route (a `PartialPrincipal` on
 * auth's own second-factor routes). Undefined on `@Public()` routes.
 */
export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal | undefined =>
    ctx.switchToHttp().getRequest<{ user?: Principal }>().user,
);
