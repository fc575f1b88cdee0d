import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { register, verify } from '../support/auth-api.js';
import { usersWithEmail } from '../support/db.js';
import { expectTooMany } from '../support/expect-error.js';
import { closeApp, newIdentity, startTestApp, TestApp } from '../support/test-app.js';
import { awayFromWindowEnd, HOUR } from '../support/windows.js';

/**
 * TRUST_PROXY: behind a trusted proxy, the client address (per-IP limits, audit trail) comes from
 * X-Forwarded-For.
 */

describe('TRUST_PROXY=127.0.0.1 (SMS_LIMIT_PER_IP_HOUR=2)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1', SMS_LIMIT_PER_IP_HOUR: '2' } });
  });
  beforeEach(async () => {
    await t.db.query('DELETE FROM rate_limit_counters');
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('gives each forwarded client address its own per-IP budget', async () => {
    await awayFromWindowEnd(HOUR);
    const xff = (ip: string) => ({ 'x-forwarded-for': ip });
    expect((await register(t, newIdentity(), xff('203.0.113.9'))).status).toBe(201);
    expect((await register(t, newIdentity(), xff('203.0.113.9'))).status).toBe(201);
    const refused = newIdentity();
    expectTooMany(await register(t, refused, xff('203.0.113.9')), HOUR);
    expect(await usersWithEmail(t, refused.email)).toBe(0);

    expect((await register(t, newIdentity(), xff('203.0.113.10'))).status).toBe(201);
    expect((await register(t, newIdentity())).status).toBe(201); // the proxy itself, 127.0.0.1
    expect(t.xoxzo.sent).toHaveLength(4);
    const { rows } = await t.db.query(
      `SELECT ip FROM auth_events WHERE type = 'rate_limited' AND details->>'limit' = 'sms_new_number_per_ip_hour'`,
    );
    expect(rows).toEqual([{ ip: '203.0.113.9' }]);
  });

  it('counts a whole IPv6 /64 as one client: rotating addresses inside it does not escape the limit', async () => {
    await awayFromWindowEnd(HOUR);
    const xff = (ip: string) => ({ 'x-forwarded-for': ip });
    expect((await register(t, newIdentity(), xff('2001:db8:1:2::1'))).status).toBe(201);
    expect((await register(t, newIdentity(), xff('2001:db8:1:2:aaaa::2'))).status).toBe(201);
    expectTooMany(await register(t, newIdentity(), xff('2001:db8:1:2:ffff:ffff:ffff:3')), HOUR);
    expect((await register(t, newIdentity(), xff('2001:db8:1:3::1'))).status).toBe(201); // another /64
  });

  it('records the forwarded address in the audit trail, taking the hop the trusted proxy saw', async () => {
    const id = newIdentity();
    const headers = { 'x-forwarded-for': '198.51.100.23, 203.0.113.77', 'user-agent': 'abuse-e2e-proxy' };
    const registered = await register(t, id, headers);
    expect(registered.status).toBe(201);
    const verified = await verify(t, registered.body.accessToken, t.xoxzo.lastPinFor(id.phone), headers);
    expect(verified.status).toBe(200);
    const res = await t.get('/users/me/events', verified.body.accessToken);
    expect(res.status).toBe(200);
    expect((res.body.events as { type: string }[]).map((e) => e.type)).toEqual([
      'pin_verified',
      'registered',
      'pin_sent',
    ]);
    for (const event of res.body.events) {
      expect(event).toMatchObject({ ip: '203.0.113.77', userAgent: 'abuse-e2e-proxy' });
    }
  });
});
