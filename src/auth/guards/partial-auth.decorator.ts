import { SetMetadata } from '@nestjs/common';

export const PARTIAL_AUTH = 'auth:partial';

/**
 * For the second-factor routes only: the route takes a *partial* token (password checked, PIN not yet) and
 * refuses full tokens. Anything else a partial token opens would be a second-factor bypass.
 */
export const PartialAuth = () => SetMetadata(PARTIAL_AUTH, true);
