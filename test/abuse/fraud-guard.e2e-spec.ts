import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LoggerService } from '@nestjs/common';
import { login, register, verify } from '../support/auth-api.js';
import { count, usersWithEmail } from '../support/db.js';
import { expectError } from '../support/expect-error.js';
import { closeApp, newIdentity, registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';

/**
 * The fraud guard against SMS pumping: a destination (country, or 6-digit prefix) that is sent many PINs and
 * verifies few of them is paused, except for trusted numbers (verified on their account).
 */
const FRAUD_GUARD = {
  FRAUD_GUARD: 'on',
  FRAUD_GUARD_MIN_SENT: '5',
  FRAUD_GUARD_MIN_VERIFY_RATE: '0.5',
  FRAUD_GUARD_WINDOW_MINUTES: '60',
  FRAUD_GUARD_PAUSE_MINUTES: '30',
};

/** A logger that keeps error-level lines (the alarm). */
function alarms(): { logger: LoggerService; errors: string[] } {
  const errors: string[] = [];
  const ignore = () => undefined;
  return {
    errors,
    logger: {
      log: ignore,
      warn: ignore,
      debug: ignore,
      verbose: ignore,
      fatal: ignore,
      error: (m: unknown) => void errors.push(String(m)),
    },
  };
}

describe('fraud guard (5 sent, verify rate under 0.5 → pause for 30 min)', () => {
  let t: TestApp;
  const log = alarms();
  beforeAll(async () => {
    t = await startTestApp({ env: FRAUD_GUARD, logger: log.logger });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('pauses a destination whose PINs are not verified: 429 DESTINATION_PAUSED, an alarm, an audit event, /health', async () => {
    const trusted = await registerAndVerify(t); // one sent, one verified
    // Pumping: registrations to Japanese numbers nobody verifies. With the trusted user's PIN, 5 sent and
    // 1 verified: the rate (0.2) is under 0.5, so the 4th registration's send pauses JP.
    for (let i = 0; i < 4; i++) expect((await register(t, newIdentity())).status).toBe(201);
    const sent = t.xoxzo.sent.length;
    const refused = newIdentity();
    const res = await register(t, refused);
    expectError(res, 429, 'DESTINATION_PAUSED');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(1700);
    expect(res.body.retryAfter).toBe(Number(res.headers.get('retry-after')));
    expect(t.xoxzo.sent).toHaveLength(sent);
    expect(await usersWithEmail(t, refused.email)).toBe(0);

    expect(log.errors.some((line) => /Fraud guard: sms PINs to country JP paused/.test(line))).toBe(true);
    expect(await count(t, `auth_events WHERE type = 'destination_paused' AND details->>'key' = 'JP'`)).toBe(
      1,
    );
    const health = await t.get('/health');
    expect(health.body.info.fraudGuard.pausedDestinations).toBeGreaterThanOrEqual(1);

    // A trusted number (verified, with a successful login behind it) is not paused.
    const loggedIn = await login(t, trusted.identity);
    expect(loggedIn.status).toBe(200);
    expect(
      (await verify(t, loggedIn.body.accessToken, t.xoxzo.lastPinFor(trusted.identity.phone))).status,
    ).toBe(200);

    // Other countries are not affected.
    expect((await register(t, { ...newIdentity(), phone: '+447911123456' })).status).toBe(201);
  });

  it('leaves a destination alone while its PINs are verified', async () => {
    for (let i = 0; i < 6; i++)
      await registerAndVerify(t, { ...newIdentity(), phone: `+1415555${2670 + i}` });
    expect((await register(t, { ...newIdentity(), phone: '+14155552690' })).status).toBe(201);
  });
});

describe('FRAUD_GUARD=off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { ...FRAUD_GUARD, FRAUD_GUARD: 'off' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('never pauses', async () => {
    for (let i = 0; i < 8; i++) expect((await register(t, newIdentity())).status).toBe(201);
  });
});

describe('fraud guard per number prefix, inside a healthy country (5 sent, under 0.5 → pause)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: FRAUD_GUARD });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('pauses a 6-digit prefix nobody verifies while its country (verified elsewhere) stays open', async () => {
    for (let i = 0; i < 6; i++) await registerAndVerify(t); // JP: 6 sent, 6 verified
    // Pumping one range: +81 80 12 34 ... (prefix +818012). JP stays at or above 0.5.
    for (let i = 0; i < 5; i++)
      expect((await register(t, { ...newIdentity(), phone: `+81801234000${i}` })).status).toBe(201);
    const res = await register(t, { ...newIdentity(), phone: '+818012340009' });
    expectError(res, 429, 'DESTINATION_PAUSED');
    expect(
      await count(t, `auth_events WHERE type = 'destination_paused' AND details->>'key' = '+818012'`),
    ).toBe(1);
    expect(await count(t, `auth_events WHERE type = 'destination_paused' AND details->>'key' = 'JP'`)).toBe(
      0,
    );
    // Another range of the same country is not affected.
    expect((await register(t, { ...newIdentity(), phone: '+817012340001' })).status).toBe(201);
  });
});

describe('fraud guard window (FRAUD_GUARD_WINDOW_MINUTES=60)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: FRAUD_GUARD });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('judges only the sends of the window: older unverified PINs do not count', async () => {
    for (let i = 0; i < 4; i++)
      expect((await register(t, { ...newIdentity(), phone: `+44791112345${i}` })).status).toBe(201);
    // Those four are now 61 minutes old: outside the window.
    await t.db.query(`UPDATE destination_stats SET minute = minute - interval '61 minutes'`);
    for (let i = 4; i < 8; i++)
      expect((await register(t, { ...newIdentity(), phone: `+44791112345${i}` })).status).toBe(201);
    expect(await count(t, `auth_events WHERE type = 'destination_paused'`)).toBe(0);
  });
});
