/**
 * The access contract: everything a feature module needs from the platform, and nothing that points back
 * into a feature. Routes are protected by default (a full token of a live session); `@Public()` opts out.
 *
 * ```ts
 * import { ApiException, CurrentUser, ErrorCode, type FullPrincipal, Public } from '../common/index.js';
 * ```
 */
export { CurrentUser } from './access/current-user.decorator.js';
export type { FullPrincipal, PartialPrincipal, Principal } from './access/principal.js';
export { IS_PUBLIC, Public } from './access/public.decorator.js';
export { RECENT_SECOND_FACTOR, RequireRecentSecondFactor } from './access/recent-second-factor.decorator.js';
export { type ApiErrorBody, ApiException } from './errors/api.exception.js';
export { ErrorCode } from './errors/error-codes.js';
export { notFound, tooManyRequests, validationFailed } from './errors/errors.js';
export { Client, type ClientContext, clientContextOf } from './http/client-context.js';
export { ipv6Groups, normaliseIp } from './http/client-ip.js';
export { IdParam, isUuid } from './http/id-param.js';
export { AcceptsForm } from './http/json-only.guard.js';
export { ServerKeys, ServerSecret } from './keys/server-keys.js';
export { createValidationPipe } from './http/validation.js';
