import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { login, verify, wrongPin } from '../support/auth-api.js';
import { eventsOf } from '../support/db.js';
import { expectError } from '../support/expect-error.js';
import { decodeJwt } from '../support/jwt-forge.js';
import { registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';
import { sleep } from '../support/windows.js';

/**
 * Step-up: a full session proves its second factor again with a PIN to the account's phone, and gets new
 * tokens for the same session whose second-factor time (and auth_time) are now.
 */
describe('step-up (POST /auth/step-up, /resend, /verify)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PIN_RESEND_SECONDS: '0', PIN_MAX_ATTEMPTS: '3' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const stepUp = (token: string) => t.post('/auth/step-up', undefined, token);
  const stepUpVerify = (token: string, pin: string) => t.post('/auth/step-up/verify', { pin }, token);

  it('sends a PIN to the account phone and, verified, refreshes secondFactorAt and auth_time of the same session', async () => {
    const { identity, session } = await registerAndVerify(t);
    const before = await t.get('/auth/session', session.accessToken);
    await sleep(1100); // the token times are in whole seconds
    const started = await stepUp(session.accessToken);
    expect(started.status).toBe(200);
    expect(started.body).toEqual({
      challenge: {
        channel: 'sms',
        to: expect.stringMatching(/^\+81\*+\d{4}$/),
        expiresIn: 300,
        resendIn: 0,
        delivery: expect.any(String),
        attemptsLeft: 3,
      },
    });
    const pin = t.xoxzo.lastPinFor(identity.phone);
    const res = await stepUpVerify(session.accessToken, pin);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', authLevel: 'full', expiresIn: 900 });
    const after = await t.get('/auth/session', res.body.accessToken);
    expect(after.body.sessionId).toBe(before.body.sessionId);
    expect(Date.parse(after.body.secondFactorAt)).toBeGreaterThan(Date.parse(before.body.secondFactorAt));
    expect(Date.parse(after.body.authTime)).toBeGreaterThan(Date.parse(before.body.authTime));
    expect(decodeJwt(res.body.accessToken).payload.sid).toBe(before.body.sessionId);
    // The new refresh token works; the session keeps its fresh second-factor time across refreshes.
    const refreshed = await t.post('/auth/refresh', { refreshToken: res.body.refreshToken });
    expect(refreshed.status).toBe(200);
    const again = await t.get('/auth/session', refreshed.body.accessToken);
    expect(again.body.secondFactorAt).toBe(after.body.secondFactorAt);
    expect(await eventsOf(t, before.body.userId, 'step_up_verified')).toBe(1);
  });

  it('never takes a login PIN for a step-up, nor a step-up PIN for a login', async () => {
    const { identity, session } = await registerAndVerify(t);
    const loggingIn = await login(t, identity);
    const loginPin = t.xoxzo.lastPinFor(identity.phone);
    expect((await stepUp(session.accessToken)).status).toBe(200);
    const stepUpPin = t.xoxzo.lastPinFor(identity.phone);
    if (loginPin !== stepUpPin) {
      expectError(await stepUpVerify(session.accessToken, loginPin), 401, 'PIN_INVALID');
      expectError(await verify(t, loggingIn.body.accessToken, stepUpPin), 401, 'PIN_INVALID');
    }
    expect((await stepUpVerify(session.accessToken, stepUpPin)).status).toBe(200);
    expect((await verify(t, loggingIn.body.accessToken, loginPin)).status).toBe(200);
  });

  it("applies the login's PIN rules: attempt budget, single use, and a step-up PIN is bound to its session", async () => {
    const a = await registerAndVerify(t);
    const other = await t.post('/auth/refresh', { refreshToken: a.session.refreshToken }); // same session
    expect((await stepUp(a.session.accessToken)).status).toBe(200);
    const pin = t.xoxzo.lastPinFor(a.identity.phone);
    expectError(await stepUpVerify(a.session.accessToken, wrongPin(pin)), 401, 'PIN_INVALID');
    expectError(await stepUpVerify(a.session.accessToken, wrongPin(pin)), 401, 'PIN_INVALID');
    expectError(await stepUpVerify(a.session.accessToken, wrongPin(pin)), 401, 'PIN_INVALID');
    expectError(await stepUpVerify(a.session.accessToken, pin), 401, 'CHALLENGE_CLOSED');
    expect(other.status).toBe(200);

    // Another session of the same user cannot use this session's step-up.
    const second = await registerAndVerify(t, { ...a.identity, email: `x${a.identity.email}` }).catch(
      () => undefined,
    );
    expect(second).toBeUndefined(); // the number is taken: a second account cannot share it
    const b = await login(t, a.identity);
    const bPin = t.xoxzo.lastPinFor(a.identity.phone);
    const bSession = await verify(t, b.body.accessToken, bPin);
    expect((await stepUp(a.session.accessToken)).status).toBe(200);
    const aPin = t.xoxzo.lastPinFor(a.identity.phone);
    expectError(await stepUpVerify(bSession.body.accessToken, aPin), 401, 'CHALLENGE_CLOSED');
    const ok = await stepUpVerify(a.session.accessToken, aPin);
    expect(ok.status).toBe(200);
    expectError(await stepUpVerify(ok.body.accessToken, aPin), 401, 'CHALLENGE_CLOSED');
  });

  it('resends a new PIN for the same step-up; the old one stops working', async () => {
    const { identity, session } = await registerAndVerify(t);
    expect((await stepUp(session.accessToken)).status).toBe(200);
    const first = t.xoxzo.lastPinFor(identity.phone);
    const resent = await t.post('/auth/step-up/resend', undefined, session.accessToken);
    expect(resent.status).toBe(200);
    expect(resent.body.challenge.attemptsLeft).toBe(3);
    const second = t.xoxzo.lastPinFor(identity.phone);
    if (first !== second) expectError(await stepUpVerify(session.accessToken, first), 401, 'PIN_INVALID');
    expect((await stepUpVerify(session.accessToken, second)).status).toBe(200);
  });

  it('refuses a verify without a step-up, and a partial token', async () => {
    const { identity, session } = await registerAndVerify(t);
    expectError(await stepUpVerify(session.accessToken, '123456'), 401, 'CHALLENGE_CLOSED');
    const partial = await login(t, identity);
    expectError(await stepUp(partial.body.accessToken), 401, 'SECOND_FACTOR_REQUIRED');
  });
});
