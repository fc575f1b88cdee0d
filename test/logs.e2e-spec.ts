import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LoggerService } from '@nestjs/common';
import { FAKE_SID, FAKE_TOKEN } from './fakes/fake-xoxzo.server.js';
import { wrongPin } from './support/auth-api.js';
import { newIdentity, startTestApp, TEST_JWT_SECRET, TestApp } from './support/test-app.js';

/** Keeps every line the app logs, at every level. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private keep = (...parts: unknown[]) => {
    this.lines.push(
      parts.map((p) => (p instanceof Error ? `${p.message} ${p.stack}` : JSON.stringify(p))).join(' '),
    );
  };
  log = this.keep;
  error = this.keep;
  warn = this.keep;
  debug = this.keep;
  verbose = this.keep;
  fatal = this.keep;
}

describe('the log never carries a PIN, password, token or Xoxzo credential (Xoxzo driver)', () => {
  let t: TestApp;
  const logger = new CapturingLogger();
  beforeAll(async () => {
    t = await startTestApp({ logger, env: { SMS_DEADLINE_MS: '600' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('through a whole flow with failures of every kind', async () => {
    const id = newIdentity();
    const secrets: string[] = [id.password, 'wrong password 12345', TEST_JWT_SECRET, FAKE_TOKEN, FAKE_SID];
    secrets.push(Buffer.from(`${FAKE_SID}:${FAKE_TOKEN}`).toString('base64'));

    // Xoxzo failures that log alarms (credentials, credit, outage) before the first PIN goes out.
    for (const failure of ['http401', 'http403', 'http503'] as const) {
      t.xoxzo.failAlways(failure, { retryAfter: 1 });
      expect((await t.post('/auth/register', id)).status).toBe(503);
    }
    t.xoxzo.recover();
    const registered = await t.post('/auth/register', id);
    expect(registered.status).toBe(201);
    const pin = t.xoxzo.lastPinFor(id.phone);
    const badPin = wrongPin(pin);
    expect((await t.post('/auth/2fa/verify', { pin: badPin }, registered.body.accessToken)).status).toBe(401);
    const session = await t.post('/auth/2fa/verify', { pin }, registered.body.accessToken);
    expect(session.status).toBe(200);
    const refreshed = await t.post('/auth/refresh', { refreshToken: session.body.refreshToken });
    expect(refreshed.status).toBe(200);
    // A duplicate within the grace window gets the same successor; an unknown token is refused.
    const duplicate = await t.post('/auth/refresh', { refreshToken: session.body.refreshToken });
    expect(duplicate.status).toBe(200);
    expect(duplicate.body.refreshToken).toBe(refreshed.body.refreshToken);
    expect((await t.post('/auth/refresh', { refreshToken: 'x'.repeat(43) })).status).toBe(401);
    expect((await t.post('/auth/login', { email: id.email, password: 'wrong password 12345' })).status).toBe(
      401,
    );
    expect((await t.get('/users/me', 'not.a.token')).status).toBe(401);
    // An uncertain send (Xoxzo took the SMS, then a 500) logs its outcome, not its PIN.
    t.xoxzo.failNext('http500', 1, { accepted: true });
    const uncertain = await t.post('/auth/login', { email: id.email, password: id.password });
    expect(uncertain.status).toBe(200);
    expect(uncertain.body.challenge.delivery).toBe('unknown');
    secrets.push(t.xoxzo.lastPinFor(id.phone), uncertain.body.accessToken);
    secrets.push(pin, registered.body.accessToken, session.body.accessToken, session.body.refreshToken);
    secrets.push(refreshed.body.accessToken, refreshed.body.refreshToken, duplicate.body.accessToken);

    const log = logger.lines.join('\n');
    expect(log).toMatch(/401/); // the credential alarm was logged, so the log was really captured
    for (const secret of secrets) expect([secret, log.includes(secret)]).toEqual([secret, false]);
  });
});
