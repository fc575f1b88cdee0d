import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { login, register } from '../support/auth-api.js';
import { usersWithEmail } from '../support/db.js';
import { expectError } from '../support/expect-error.js';
import { closeApp, newIdentity, startTestApp, TestApp } from '../support/test-app.js';

/**
 * SMS_ALLOWED_COUNTRIES: no PIN SMS to a number outside the listed countries, at registration or at login.
 */

describe('SMS_ALLOWED_COUNTRIES=JP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_ALLOWED_COUNTRIES: 'JP' } });
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it('refuses a US number at registration (400, no SMS, no account) and accepts a JP one', async () => {
    const us = { ...newIdentity(), phone: '+14155552671' };
    const res = await register(t, us);
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(res.body.message)).toMatch(/phone/);
    expect(t.xoxzo.sent).toHaveLength(0);
    expect(await usersWithEmail(t, us.email)).toBe(0);

    const jp = newIdentity();
    expect((await register(t, jp)).status).toBe(201);
    expect(t.xoxzo.sent).toHaveLength(1);
    expect(t.xoxzo.messagesTo(jp.phone)).toHaveLength(1);
  });

  it('sends no PIN at login to a number outside a list narrowed after it registered', async () => {
    // Registered through an instance without the list, on the same database.
    const open = await startTestApp({ databaseUrl: t.databaseUrl });
    const us = { ...newIdentity(), phone: '+14155552672' };
    try {
      expect((await register(open, us)).status).toBe(201);
    } finally {
      await closeApp(open);
    }
    const before = t.xoxzo.sent.length;
    const res = await login(t, us);
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(res.body.message)).toMatch(/phone/);
    expect(t.xoxzo.sent).toHaveLength(before);
  });
});
