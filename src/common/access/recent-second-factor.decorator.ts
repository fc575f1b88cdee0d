import { SetMetadata } from '@nestjs/common';

export const RECENT_SECOND_FACTOR = 'auth:recentSecondFactor';

/**
 * A sensitive route: the caller's session must have proven its second factor within `maxAgeSeconds`
 * (default: STEP_UP_MAX_AGE_SECONDS). Older, the route answers `401 STEP_UP_REQUIRED` with
 * `WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age=<seconds>` (RFC 9470); the
 * client then calls `POST /auth/step-up`, `POST /auth/step-up/verify {pin}` and retries with the new token.
 *
 * ```ts
 * @RequireRecentSecondFactor(300)
 * @Post('payouts')
 * payout(@CurrentUser() me: FullPrincipal) {}
 * ```
 */
export const RequireRecentSecondFactor = (maxAgeSeconds?: number) =>
  SetMetadata(RECENT_SECOND_FACTOR, maxAgeSeconds ?? 'default');
