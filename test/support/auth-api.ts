import { decodeJwt } from './jwt-forge.js';
import type { HttpResult, newIdentity, TestApp } from './test-app.js';

/**
 * The auth endpoints as one call each, over a test app. Each returns the raw answer (status, body,
 * headers) and checks nothing, so that a test can assert refusals as well as successes. `headers` are sent
 * as given (e.g. `user-agent`, `x-forwarded-for`, `accept-language`).
 */

/** What `newIdentity()` makes: the fields of a registration. */
export type Identity = ReturnType<typeof newIdentity>;
/** A registration body: an identity, and optionally the language of its PIN SMS. */
export type Registration = Identity & { locale?: string };
export type ExtraHeaders = Record<string, string>;

export const WRONG_PASSWORD = 'not the right password at all';

export function register(
  t: TestApp,
  identity: Registration,
  headers: ExtraHeaders = {},
): Promise<HttpResult> {
  return t.request('POST', '/auth/register', { body: identity, headers });
}

/** A password login as `identity`, with its own password unless told otherwise. */
export function login(
  t: TestApp,
  identity: { email: string; password: string },
  password = identity.password,
  headers: ExtraHeaders = {},
): Promise<HttpResult> {
  return t.request('POST', '/auth/login', { body: { email: identity.email, password }, headers });
}

export function verify(
  t: TestApp,
  token: string,
  pin: string,
  headers: ExtraHeaders = {},
): Promise<HttpResult> {
  return t.request('POST', '/auth/2fa/verify', { body: { pin }, token, headers });
}

export function resend(t: TestApp, token: string, headers: ExtraHeaders = {}): Promise<HttpResult> {
  return t.request('POST', '/auth/2fa/resend', { token, headers });
}

/** GET /auth/2fa/status of a partial token's challenge. */
export function status(t: TestApp, token: string): Promise<HttpResult> {
  return t.get('/auth/2fa/status', token);
}

export function refresh(t: TestApp, refreshToken: string, headers: ExtraHeaders = {}): Promise<HttpResult> {
  return t.request('POST', '/auth/refresh', { body: { refreshToken }, headers });
}

/** Ends the caller's session (and, with `body.refreshToken`, that one's session too). */
export function logout(
  t: TestApp,
  token: string,
  body: { refreshToken?: string } = {},
  headers: ExtraHeaders = {},
): Promise<HttpResult> {
  return t.request('POST', '/auth/logout', { body, token, headers });
}

export function me(t: TestApp, token: string): Promise<HttpResult> {
  return t.get('/users/me', token);
}

/** A PIN of the same length that is not `pin`. */
export function wrongPin(pin: string): string {
  return ((Number(pin) + 1) % 10 ** pin.length).toString().padStart(pin.length, '0');
}

/** Whose token it is (`sub`) and, for a partial token, its login attempt (`jti`); read without checking. */
export function claimsOf(token: string): { userId: string; attemptId: string } {
  const { payload } = decodeJwt(token);
  return { userId: payload.sub as string, attemptId: payload.jti as string };
}
