import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { login, register } from '../support/auth-api.js';
import { usersWithEmail } from '../support/db.js';
import { expectError } from '../support/expect-error.js';
import { closeApp, newIdentity, startTestApp, TestApp } from '../support/test-app.js';

/**
 * Where PINs may go: never to non-geographic codes (satellite, international networks, premium rate) or the
 * blocked prefixes (SMS_BLOCKED_PREFIXES, matched on the digits), and only to SMS_ALLOWED_COUNTRIES — at
 * registration and before every send.
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

describe('non-geographic codes and SMS_BLOCKED_PREFIXES (no allow-list)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await closeApp(t);
  });

  it.each([
    ['an Iridium satellite number (+881 6)', '+881612345678'],
    ['an Inmarsat number (+870)', '+870771234567'],
    ['an international-networks number (+882)', '+88249123456'],
    ['an Abkhazian number in Russian numbering (+7 940, a default blocked prefix)', '+79401234567'],
  ])('refuses %s at registration: 400, no SMS, no account', async (_label, phone) => {
    const id = { ...newIdentity(), phone };
    const res = await register(t, id);
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(res.body.message)).toMatch(/phone/);
    expect(t.xoxzo.messagesTo(phone)).toHaveLength(0);
    expect(await usersWithEmail(t, id.email)).toBe(0);
  });

  it('refuses a prefix blocked after the number registered, before the login SMS', async () => {
    const id = { ...newIdentity(), phone: '+37060012345' };
    expect((await register(t, id)).status).toBe(201);
    const blocking = await startTestApp({
      databaseUrl: t.databaseUrl,
      env: { SMS_BLOCKED_PREFIXES: '+3706' },
    });
    try {
      const res = await login(blocking, id);
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(blocking.xoxzo.sent).toHaveLength(0);
    } finally {
      await closeApp(blocking);
    }
  });
});

describe('SMS_BLOCKED_PREFIXES extends the default toll-fraud prefixes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_BLOCKED_PREFIXES: '+3706' } });
  });
  afterAll(async () => closeApp(t));

  it('still refuses an Abkhazian +7 940 number: 400, no SMS', async () => {
    const id = { ...newIdentity(), phone: '+79401234567' };
    expectError(await register(t, id), 400, 'VALIDATION_FAILED');
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(0);
  });
});
