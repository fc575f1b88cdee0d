import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WRONG_PASSWORD } from '../support/auth-api.js';
import { count } from '../support/db.js';
import { expectError } from '../support/expect-error.js';
import { closeApp, newIdentity, startTestApp, TestApp } from '../support/test-app.js';
import { failuresRow } from './login-support.js';

/**
 * HTTP hardening: helmet headers, CORS for the configured origin only, and the body size limit.
 */

describe('HTTP hardening (CORS_ORIGINS=https://app.example.com)', () => {
  const ORIGIN = 'https://app.example.com';
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { CORS_ORIGINS: ORIGIN } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('sets helmet headers on successful and error responses', async () => {
    for (const res of [await t.get('/health'), await t.get('/users/me'), await t.get('/no-such-route')]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('answers a CORS preflight only for the configured origin', async () => {
    const preflight = (origin: string) =>
      t.request('OPTIONS', '/auth/login', {
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const allowed = await preflight(ORIGIN);
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();

    const other = await preflight('https://evil.example.net');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    const simple = await t.request('GET', '/health', { headers: { origin: ORIGIN } });
    expect(simple.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(simple.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('retry-after');
    const foreign = await t.request('GET', '/health', { headers: { origin: 'https://evil.example.net' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a body over 16 KiB with 413 PAYLOAD_TOO_LARGE before any login is counted', async () => {
    const email = newIdentity().email;
    /** A login body of exactly `size` bytes (the padding field makes it invalid, never a real attempt). */
    const body = (size: number) => {
      const base = JSON.stringify({ email, password: WRONG_PASSWORD, pad: '' });
      return base.replace('"pad":""', `"pad":"${'x'.repeat(size - base.length)}"`);
    };
    const headers = { 'content-type': 'application/json' };
    expect(Buffer.byteLength(body(16 * 1024 + 1))).toBe(16 * 1024 + 1);

    const tooLarge = await t.request('POST', '/auth/login', { raw: body(16 * 1024 + 1), headers });
    expectError(tooLarge, 413, 'PAYLOAD_TOO_LARGE');
    const atLimit = await t.request('POST', '/auth/login', { raw: body(16 * 1024), headers });
    expectError(atLimit, 400, 'VALIDATION_FAILED');
    expect(await failuresRow(t, email)).toBeUndefined();
    expect(await count(t, 'auth_events')).toBe(0);
  });
});
