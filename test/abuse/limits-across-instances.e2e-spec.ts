import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { login, register, WRONG_PASSWORD } from '../support/auth-api.js';
import { expectError, expectTooMany } from '../support/expect-error.js';
import { closeApp, newIdentity, registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';
import { awayFromWindowEnd, HOUR } from '../support/windows.js';

/**
 * Several app instances behind one load balancer share one database: the SMS limits and the password lockout
 * count there, so they trip at the configured total however the requests are spread.
 */

describe('limits shared by two app instances on one database', () => {
  const env = {
    SMS_LIMIT_PER_PHONE_HOUR: '3',
    LOGIN_LOCKOUT_THRESHOLD: '3',
    LOGIN_LOCKOUT_SECONDS: '600',
  };
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp({ env });
    b = await startTestApp({ env, databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await closeApp(b);
    await closeApp(a);
  });

  it('trips the per-phone SMS limit at the configured total, not per instance', async () => {
    await awayFromWindowEnd(HOUR);
    const id = newIdentity();
    expect((await register(a, id)).status).toBe(201);
    expect((await login(b, id)).status).toBe(200);
    expect((await login(a, id)).status).toBe(200);
    expect(a.xoxzo.messagesTo(id.phone).length + b.xoxzo.messagesTo(id.phone).length).toBe(3);

    expectTooMany(await login(b, id), HOUR);
    expectTooMany(await login(a, id), HOUR);
    expect(a.xoxzo.messagesTo(id.phone)).toHaveLength(2);
    expect(b.xoxzo.messagesTo(id.phone)).toHaveLength(1);
  });

  it('locks an account after 3 failures spread over both instances', async () => {
    const { identity } = await registerAndVerify(a);
    const sent = a.xoxzo.sent.length + b.xoxzo.sent.length;
    for (const t of [a, b, a])
      expectError(await login(t, identity, WRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');
    expectTooMany(await login(b, identity));
    expectTooMany(await login(a, identity));
    expect(a.xoxzo.sent.length + b.xoxzo.sent.length).toBe(sent);
  });
});
