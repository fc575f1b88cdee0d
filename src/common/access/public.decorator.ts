import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'auth:isPublic';

/** Opens a route to anonymous callers. Every route without it (or `@PartialAuth()`) needs a full token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
