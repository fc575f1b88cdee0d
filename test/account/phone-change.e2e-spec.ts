import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { login, verify } from '../support/auth-api.js';
import { eventsOf, row } from '../support/db.js';
import { expectError } from '../support/expect-error.js';
import { decodeJwt } from '../support/jwt-forge.js';
import { stepUp, withSecondFactorAged } from '../support/sessions.js';
import { newIdentity, registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';

describe('phone change (POST /users/me/phone, /resend, /verify)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PIN_RESEND_SECONDS: '0' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const start = (token: string, phone: string) => t.post('/users/me/phone', { phone }, token);
  const confirm = (token: string, pin: string) => t.post('/users/me/phone/verify', { pin }, token);

  it('needs a recent second factor: an older one is 401 STEP_UP_REQUIRED (RFC 9470 max_age), and nothing is sent', async () => {
    const { session } = await registerAndVerify(t);
    const aged = await withSecondFactorAged(t, session.refreshToken, 301);
    const newPhone = newIdentity().phone;
    const res = await start(aged.accessToken, newPhone);
    expectError(res, 401, 'STEP_UP_REQUIRED');
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_user_authentication", max_age=300',
    );
    expect(t.xoxzo.messagesTo(newPhone)).toHaveLength(0);
  });

  it('sends the PIN to the new number; once verified the number changes, the old one is free, other sessions end', async () => {
    const { identity, session } = await registerAndVerify(t);
    const other = await login(t, identity);
    const otherSession = await verify(t, other.body.accessToken, t.xoxzo.lastPinFor(identity.phone));
    const stepped = await stepUp(t, session.accessToken, identity.phone);
    const newPhone = newIdentity().phone;
    const started = await start(stepped.accessToken, newPhone);
    expect(started.status).toBe(200);
    expect(started.body.challenge).toMatchObject({
      channel: 'sms',
      to: expect.stringMatching(new RegExp(`${newPhone.slice(-4)}$`)),
    });
    expect(t.xoxzo.messagesTo(newPhone)).toHaveLength(1);
    // Still the old number until the new one is proven.
    expect((await t.get('/users/me', stepped.accessToken)).body.phone).toBe(identity.phone);

    const res = await confirm(stepped.accessToken, t.xoxzo.lastPinFor(newPhone));
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ phone: newPhone, phoneVerified: true });
    expectError(await t.get('/users/me', otherSession.body.accessToken), 401, 'UNAUTHENTICATED');
    expect((await t.get('/users/me', stepped.accessToken)).body.phone).toBe(newPhone);
    // The next login PIN goes to the new number.
    expect((await login(t, identity)).status).toBe(200);
    expect(t.xoxzo.messagesTo(newPhone)).toHaveLength(2);
    // The old number is released: another account may now verify it.
    expect(
      (await registerAndVerify(t, { ...newIdentity(), phone: identity.phone })).session.accessToken,
    ).toBeTruthy();
    const userId = decodeJwt(session.accessToken).payload.sub as string;
    expect(await eventsOf(t, userId, 'phone_change_completed')).toBe(1);
  });

  it('answers 409 PHONE_TAKEN for a number verified on another account, sending nothing', async () => {
    const owner = await registerAndVerify(t);
    const { identity, session } = await registerAndVerify(t);
    const stepped = await stepUp(t, session.accessToken, identity.phone);
    const sent = t.xoxzo.messagesTo(owner.identity.phone).length;
    expectError(await start(stepped.accessToken, owner.identity.phone), 409, 'PHONE_TAKEN');
    expect(t.xoxzo.messagesTo(owner.identity.phone)).toHaveLength(sent);
  });

  it('settles a race: if another account verifies the new number first, the change is refused with 409', async () => {
    const { identity, session } = await registerAndVerify(t);
    const stepped = await stepUp(t, session.accessToken, identity.phone);
    const contested = newIdentity().phone;
    expect((await start(stepped.accessToken, contested)).status).toBe(200);
    const changePin = t.xoxzo.lastPinFor(contested);
    await registerAndVerify(t, { ...newIdentity(), phone: contested });
    expectError(await confirm(stepped.accessToken, changePin), 409, 'PHONE_TAKEN');
    expect((await t.get('/users/me', stepped.accessToken)).body.phone).toBe(identity.phone);
  });

  it('applies the number rules to the new number (a satellite number is 400) and keeps the PIN to its purpose', async () => {
    const { identity, session } = await registerAndVerify(t);
    const stepped = await stepUp(t, session.accessToken, identity.phone);
    expectError(await start(stepped.accessToken, '+881612345678'), 400, 'VALIDATION_FAILED');
    const newPhone = newIdentity().phone;
    expect((await start(stepped.accessToken, newPhone)).status).toBe(200);
    // A phone-change PIN does not verify a step-up.
    expect((await t.post('/auth/step-up', undefined, stepped.accessToken)).status).toBe(200);
    const stepUpPin = t.xoxzo.lastPinFor(identity.phone);
    const changePin = t.xoxzo.lastPinFor(newPhone);
    if (stepUpPin !== changePin) {
      expectError(
        await t.post('/auth/step-up/verify', { pin: changePin }, stepped.accessToken),
        401,
        'PIN_INVALID',
      );
    }
    // A resend gives a new PIN to the new number.
    const resent = await t.post('/users/me/phone/resend', undefined, stepped.accessToken);
    expect(resent.status).toBe(200);
    expect(t.xoxzo.messagesTo(newPhone)).toHaveLength(2);
    expect((await confirm(stepped.accessToken, t.xoxzo.lastPinFor(newPhone))).status).toBe(200);
    const user = await row<{ phone: string }>(t, 'SELECT phone FROM users WHERE email = $1', [
      identity.email,
    ]);
    expect(user?.phone).toBe(newPhone);
  });

  it('refuses a verify without a started change', async () => {
    const { session } = await registerAndVerify(t);
    expectError(await confirm(session.accessToken, '123456'), 401, 'CHALLENGE_CLOSED');
  });
});
