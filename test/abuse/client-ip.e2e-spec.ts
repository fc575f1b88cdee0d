import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { register } from '../support/auth-api.js';
import { RateLimitStore } from '../../src/rate-limit/rate-limit.store.js';
import { count } from '../support/db.js';
import { expectTooMany } from '../support/expect-error.js';
import { closeApp, newIdentity, startTestApp, TestApp } from '../support/test-app.js';
import { awayFromWindowEnd, HOUR } from '../support/windows.js';

/**
 * Under TRUST_PROXY the client address comes from X-Forwarded-For, and is read as an IP: a port is dropped
 * (it must not buy a fresh budget), IPv6 is normalised, and what is not an IP falls back to the socket's
 * address — never a 5xx, never an unbounded key.
 */
describe('the client IP is an IP (TRUST_PROXY=127.0.0.1, REGISTRATION_LIMIT_PER_IP_HOUR=2)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1', REGISTRATION_LIMIT_PER_IP_HOUR: '2' } });
  });
  beforeEach(async () => {
    await t.db.query('DELETE FROM rate_limit_counters');
  });
  afterAll(async () => {
    await closeApp(t);
  });

  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const auditedIps = async (email: string) =>
    (
      await t.db.query<{ ip: string }>(
        `SELECT DISTINCT e.ip FROM auth_events e JOIN users u ON u.id = e.user_id WHERE u.email = $1`,
        [email],
      )
    ).rows.map((r) => r.ip);

  it('drops the port of an IPv4 ip:port: every port shares the address budget, and the audit shows the address', async () => {
    await awayFromWindowEnd(HOUR);
    const first = newIdentity();
    expect((await register(t, first, from('203.0.113.9:40001'))).status).toBe(201);
    expect((await register(t, newIdentity(), from('203.0.113.9:40002'))).status).toBe(201);
    expectTooMany(await register(t, newIdentity(), from('203.0.113.9:40003')), HOUR);
    expect(await auditedIps(first.email)).toEqual(['203.0.113.9']);
  });

  it('reads IPv6 in any spelling (brackets, port, case, zeros) as one address', async () => {
    await awayFromWindowEnd(HOUR);
    const first = newIdentity();
    expect((await register(t, first, from('[2001:DB8:0:0::7]:443'))).status).toBe(201);
    expect((await register(t, newIdentity(), from('2001:0db8:0000:0000:0000:0000:0000:0007'))).status).toBe(
      201,
    );
    expectTooMany(await register(t, newIdentity(), from('2001:db8::7')), HOUR);
    expect(await auditedIps(first.email)).toEqual(['2001:db8::7']);
  });

  it('stores a limit key longer than the column (200 characters) by its hash: counted, kept apart, no error', async () => {
    await awayFromWindowEnd(HOUR);
    const store = t.app.get(RateLimitStore);
    const bucket = {
      name: 'long_key',
      key: `other-module:${'k'.repeat(300)}`,
      limit: 2,
      windowSeconds: HOUR,
    };
    expect(await store.hit([bucket])).toEqual({ allowed: true });
    expect(await store.hit([bucket])).toEqual({ allowed: true });
    expect((await store.hit([bucket])).allowed).toBe(false);
    // Another long key with the same first 200 characters is its own counter.
    expect(await store.hit([{ ...bucket, key: `${bucket.key}-2` }])).toEqual({ allowed: true });
    expect(await count(t, `rate_limit_counters WHERE length(key) > 200`)).toBe(0);
  });

  it('takes the socket address for a forwarded value that is not an IP, even a very long one: no 5xx', async () => {
    await awayFromWindowEnd(HOUR);
    const junk = newIdentity();
    const res = await register(t, junk, from('x'.repeat(5000)));
    expect(res.status).toBe(201);
    expect(await auditedIps(junk.email)).toEqual(['127.0.0.1']);
    expect((await register(t, newIdentity(), from('unknown'))).status).toBe(201);
    expectTooMany(await register(t, newIdentity(), from('proxy.internal')), HOUR); // also 127.0.0.1
    expect(await count(t, `rate_limit_counters WHERE length(key) > 200`)).toBe(0);
  });
});
