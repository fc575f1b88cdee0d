import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { FakeSms } from './fakes/fake-xoxzo.server.js';
import { claimsOf, login, register, Registration, status, verify } from './support/auth-api.js';
import { usersWithEmail } from './support/db.js';
import { expectStatusAndCode } from './support/expect-error.js';
import { HttpResult, newIdentity, registerAndVerify, startTestApp, TestApp } from './support/test-app.js';
import { SmsHealth } from '../src/sms/sms-health.js';

/**
 * The SMS delivery features end to end: Xoxzo templates, the PIN text per language, the WebOTP line, test
 * numbers, delivery reports and the delivery status, retries / deadline / circuit breaker, and /health.
 */

const DELIVERY_REPORTS_PATH = '/sms/xoxzo/delivery-reports';
const FREEFORM_SEND = { method: 'POST', path: '/sms/messages/' };

/** Fictional but valid (libphonenumber) North-American numbers: +1 555 555 0100 is not a valid number. */
const TEST_NUMBER = '+12015550123';
const TEST_NUMBER_2 = '+12015550124';
const TEST_NUMBER_3 = '+12015550125';
const TEST_PIN = '123456';

/** The one SMS the fake received for `phone` since `before` messages had been sent to it. */
function onlyNewSms(t: TestApp, phone: string, before = 0): FakeSms {
  const sent = t.xoxzo.messagesTo(phone);
  expect(sent).toHaveLength(before + 1);
  return sent[before];
}

function freeformSends(t: TestApp): number {
  return t.xoxzo.calls.filter((c) => c.method === FREEFORM_SEND.method && c.path === FREEFORM_SEND.path)
    .length;
}

/** A text fits one SMS segment: 160 characters all ASCII (GSM-7), 70 (UCS-2, UTF-16 units) otherwise. */
function fitsOneSegment(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(text) ? text.length <= 160 : text.length <= 70;
}

const JAPANESE = /[\u3040-\u30ff\u4e00-\u9fff]/;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

describe('Xoxzo template mode, one default template (XOXZO_TEMPLATE_ID)', () => {
  const TEMPLATE = { body: 'Your code is {pin}, valid {minutes} min', status: 'APPROVED' as const };
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { XOXZO_TEMPLATE_ID: 'otp7' } });
    t.xoxzo.templates.set('otp7', TEMPLATE);
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => {
    t.xoxzo.templates.set('otp7', TEMPLATE);
  });

  it('registration sends through the template with {pin, minutes}, never freeform; the PIN verifies', async () => {
    const identity = newIdentity();
    const freeform = freeformSends(t);
    const res = await register(t, identity);
    expect(res.status).toBe(201);

    const sms = onlyNewSms(t, identity.phone);
    expect(sms.templateId).toBe('otp7');
    expect(sms.variables).toEqual({ pin: expect.stringMatching(/^\d{6}$/), minutes: '5' });
    const pin = sms.variables!.pin;
    expect(sms.message).toBe(`Your code is ${pin}, valid 5 min`);
    expect(t.xoxzo.calls).toContainEqual({ method: 'POST', path: '/sms/templates/otp7/messages/' });
    expect(freeformSends(t)).toBe(freeform);

    const ok = await verify(t, res.body.accessToken, pin);
    expect(ok.status).toBe(200);
    expect(ok.body.authLevel).toBe('full');
  });

  it('a login SMS goes through the template too', async () => {
    const { identity } = await registerAndVerify(t);
    const freeform = freeformSends(t);
    const res = await login(t, identity);
    expect(res.status).toBe(200);
    const sms = onlyNewSms(t, identity.phone, 1);
    expect(sms.templateId).toBe('otp7');
    expect(freeformSends(t)).toBe(freeform);
    expect((await verify(t, res.body.accessToken, sms.variables!.pin)).status).toBe(200);
  });

  it('a template that is not approved yet → 503 SMS_UNAVAILABLE, no account, no freeform fallback', async () => {
    t.xoxzo.templates.set('otp7', { ...TEMPLATE, status: 'PENDING' });
    const identity = newIdentity();
    const freeform = freeformSends(t);
    const requests = t.xoxzo.requests;
    const res = await register(t, identity);
    expectStatusAndCode(res, 503, 'SMS_UNAVAILABLE');
    expect(res.body.accessToken).toBeUndefined();
    // Not approved is a 400 that will not fix itself: asked once, not retried.
    expect(t.xoxzo.requests).toBe(requests + 1);
    expect(t.xoxzo.messagesTo(identity.phone)).toHaveLength(0);
    expect(freeformSends(t)).toBe(freeform);
    expect(await usersWithEmail(t, identity.email)).toBe(0);
  });
});

describe('Xoxzo template mode, one template per locale (XOXZO_TEMPLATE_IDS=en:11,ja:12)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { XOXZO_TEMPLATE_IDS: 'en:11,ja:12' } });
    t.xoxzo.templates.set('11', { body: 'Your code is {pin}, valid {minutes} min', status: 'APPROVED' });
    t.xoxzo.templates.set('12', { body: '認証コード: {pin}（{minutes}分間有効）', status: 'APPROVED' });
  });
  afterAll(async () => {
    await t.close();
  });

  it("a `locale: 'ja'` registration uses template 12; the PIN verifies", async () => {
    const identity = { ...newIdentity(), locale: 'ja' };
    const freeform = freeformSends(t);
    const res = await register(t, identity);
    expect(res.status).toBe(201);
    const sms = onlyNewSms(t, identity.phone);
    expect(sms.templateId).toBe('12');
    expect(sms.variables).toEqual({ pin: expect.stringMatching(/^\d{6}$/), minutes: '5' });
    expect(sms.message).toBe(`認証コード: ${sms.variables!.pin}（5分間有効）`);
    expect(freeformSends(t)).toBe(freeform);
    expect((await verify(t, res.body.accessToken, sms.variables!.pin)).status).toBe(200);

    // The login SMS uses the stored locale's template as well.
    const again = await login(t, identity);
    expect(again.status).toBe(200);
    expect(onlyNewSms(t, identity.phone, 1).templateId).toBe('12');
  });

  it('an English registration uses template 11; the PIN verifies', async () => {
    const identity = newIdentity();
    const freeform = freeformSends(t);
    const res = await register(t, identity);
    expect(res.status).toBe(201);
    const sms = onlyNewSms(t, identity.phone);
    expect(sms.templateId).toBe('11');
    expect(sms.variables).toEqual({ pin: expect.stringMatching(/^\d{6}$/), minutes: '5' });
    expect(freeformSends(t)).toBe(freeform);
    expect((await verify(t, res.body.accessToken, sms.variables!.pin)).status).toBe(200);
  });

  it('Accept-Language: ja (no `locale`) picks template 12', async () => {
    const identity = newIdentity();
    const res = await register(t, identity, { 'accept-language': 'ja-JP,ja;q=0.9' });
    expect(res.status).toBe(201);
    expect(onlyNewSms(t, identity.phone).templateId).toBe('12');
  });
});

describe('Xoxzo template mode with custom variable names (XOXZO_TEMPLATE_PIN_VARIABLE=code)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { XOXZO_TEMPLATE_ID: '21', XOXZO_TEMPLATE_PIN_VARIABLE: 'code' } });
    t.xoxzo.templates.set('21', { body: 'Your code is {code}, valid {minutes} min', status: 'APPROVED' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('sends the PIN as `code`; the PIN verifies', async () => {
    const identity = newIdentity();
    const res = await register(t, identity);
    expect(res.status).toBe(201);
    const sms = onlyNewSms(t, identity.phone);
    expect(sms.templateId).toBe('21');
    expect(sms.variables).toEqual({ code: expect.stringMatching(/^\d{6}$/), minutes: '5' });
    expect(sms.message).toBe(`Your code is ${sms.variables!.code}, valid 5 min`);
    expect((await verify(t, res.body.accessToken, sms.variables!.code)).status).toBe(200);
  });
});

describe('PIN SMS language (freeform)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function storedLocale(email: string): Promise<string> {
    const { rows } = await t.db.query('SELECT locale FROM users WHERE email = $1', [email]);
    expect(rows).toHaveLength(1);
    return rows[0].locale as string;
  }

  function expectJapanese(sms: FakeSms, pin: string): void {
    expect(sms.message).toMatch(JAPANESE);
    expect(sms.message).toContain(pin);
    expect(sms.message).not.toMatch(/verification code/i);
    expect(sms.message.length).toBeLessThanOrEqual(70);
    expect(sms.templateId).toBeUndefined();
  }

  function expectEnglish(sms: FakeSms, pin: string): void {
    expect(sms.message).toBe(`Your verification code is ${pin}. It expires in 5 minutes.`);
  }

  it("`locale: 'ja'` → a Japanese text in one segment; the login SMS later is Japanese too", async () => {
    const identity = { ...newIdentity(), locale: 'ja' };
    const res = await register(t, identity);
    expect(res.status).toBe(201);
    const pin = t.xoxzo.lastPinFor(identity.phone);
    expectJapanese(onlyNewSms(t, identity.phone), pin);
    expect(await storedLocale(identity.email)).toBe('ja');
    expect((await verify(t, res.body.accessToken, pin)).status).toBe(200);

    // The stored locale wins, whatever the login request says.
    const again = await login(t, identity, identity.password, { 'accept-language': 'en-US,en;q=0.9' });
    expect(again.status).toBe(200);
    const loginPin = t.xoxzo.lastPinFor(identity.phone);
    expectJapanese(onlyNewSms(t, identity.phone, 1), loginPin);
    expect((await verify(t, again.body.accessToken, loginPin)).status).toBe(200);
  });

  it('no `locale` but Accept-Language: ja-JP,ja;q=0.9 → Japanese, at registration and at login', async () => {
    const identity = newIdentity();
    const res = await register(t, identity, { 'accept-language': 'ja-JP,ja;q=0.9' });
    expect(res.status).toBe(201);
    const pin = t.xoxzo.lastPinFor(identity.phone);
    expectJapanese(onlyNewSms(t, identity.phone), pin);
    expect(await storedLocale(identity.email)).toBe('ja');
    expect((await verify(t, res.body.accessToken, pin)).status).toBe(200);

    const again = await login(t, identity);
    expect(again.status).toBe(200);
    expectJapanese(onlyNewSms(t, identity.phone, 1), t.xoxzo.lastPinFor(identity.phone));
  });

  it("`locale: 'fr'` (unsupported) → English, also at login", async () => {
    const identity = { ...newIdentity(), locale: 'fr' };
    const res = await register(t, identity, { 'accept-language': 'ja' });
    expect(res.status).toBe(201);
    const pin = t.xoxzo.lastPinFor(identity.phone);
    expectEnglish(onlyNewSms(t, identity.phone), pin);
    expect(await storedLocale(identity.email)).toBe('en');
    expect((await verify(t, res.body.accessToken, pin)).status).toBe(200);

    const again = await login(t, identity, identity.password, { 'accept-language': 'ja' });
    expect(again.status).toBe(200);
    expectEnglish(onlyNewSms(t, identity.phone, 1), t.xoxzo.lastPinFor(identity.phone));
  });

  it('no `locale`, no Accept-Language → English', async () => {
    const identity = newIdentity();
    expect((await register(t, identity)).status).toBe(201);
    expectEnglish(onlyNewSms(t, identity.phone), t.xoxzo.lastPinFor(identity.phone));
  });

  it('an invalid locale → 400 VALIDATION_FAILED, nothing sent, no account', async () => {
    const identity = { ...newIdentity(), locale: 'not a locale!' };
    const requests = t.xoxzo.requests;
    const res = await register(t, identity);
    expectStatusAndCode(res, 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(res.body.message)).toMatch(/locale/);
    expect(t.xoxzo.requests).toBe(requests);
    expect(await usersWithEmail(t, identity.email)).toBe(0);
  });
});

describe('WebOTP line (APP_ORIGIN_DOMAIN=app.example.com)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { APP_ORIGIN_DOMAIN: 'app.example.com' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['English', undefined, /^Your verification code is (\d{6})\./],
    ['Japanese', 'ja', /^認証(?:コード|番号)[:：]?\s*(\d{6})/],
  ])(
    '%s: the SMS ends with "\\n@app.example.com #<pin>" (same PIN), in one segment',
    async (_, locale, text) => {
      const identity: Registration = { ...newIdentity(), ...(locale ? { locale } : {}) };
      const res = await register(t, identity);
      expect(res.status).toBe(201);
      const { message } = onlyNewSms(t, identity.phone);
      const pin = text.exec(message)?.[1];
      expect(pin).toMatch(/^\d{6}$/);
      expect(message.endsWith(`\n@app.example.com #${pin}`)).toBe(true);
      expect(message.split('\n')).toHaveLength(2);
      expect(fitsOneSegment(message)).toBe(true);
      expect((await verify(t, res.body.accessToken, pin!)).status).toBe(200);
    },
  );
});

describe(`SMS test numbers (SMS_TEST_NUMBERS, ${TEST_NUMBER}:${TEST_PIN}), PIN_MAX_ATTEMPTS=3`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        SMS_TEST_NUMBERS: [TEST_NUMBER, TEST_NUMBER_2, TEST_NUMBER_3]
          .map((n) => `${n}:${TEST_PIN}`)
          .join(','),
        PIN_MAX_ATTEMPTS: '3',
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('registration sends nothing to Xoxzo; the fixed PIN verifies; a later login too', async () => {
    const identity = { ...newIdentity(), phone: TEST_NUMBER };
    const requests = t.xoxzo.requests;
    const res = await register(t, identity);
    expect(res.status).toBe(201);
    expect(t.xoxzo.requests).toBe(requests);
    expect(t.xoxzo.sent).toHaveLength(0);
    const ok = await verify(t, res.body.accessToken, TEST_PIN);
    expect(ok.status).toBe(200);
    expect(ok.body.authLevel).toBe('full');

    const again = await login(t, identity);
    expect(again.status).toBe(200);
    expect(t.xoxzo.requests).toBe(requests);
    expect((await verify(t, again.body.accessToken, TEST_PIN)).status).toBe(200);
  });

  it('other numbers still get a random PIN through Xoxzo', async () => {
    const identity = newIdentity();
    const res = await register(t, identity);
    expect(res.status).toBe(201);
    const pin = t.xoxzo.lastPinFor(identity.phone);
    if (pin !== TEST_PIN)
      expectStatusAndCode(await verify(t, res.body.accessToken, TEST_PIN), 401, 'PIN_INVALID');
    expect((await verify(t, res.body.accessToken, pin)).status).toBe(200);
  });

  it('wrong PINs still count and lock the attempt after PIN_MAX_ATTEMPTS', async () => {
    const identity = { ...newIdentity(), phone: TEST_NUMBER_2 };
    const res = await register(t, identity);
    expect(res.status).toBe(201);
    for (const attemptsLeft of [2, 1, 0]) {
      const wrong = await verify(t, res.body.accessToken, '654321');
      expectStatusAndCode(wrong, 401, 'PIN_INVALID');
      expect(wrong.body.attemptsLeft).toBe(attemptsLeft);
    }
    expectStatusAndCode(await verify(t, res.body.accessToken, TEST_PIN), 401, 'CHALLENGE_CLOSED');
    const { rows } = await t.db.query('SELECT status, failed_checks FROM login_attempts WHERE id = $1', [
      claimsOf(res.body.accessToken).attemptId,
    ]);
    expect(rows).toEqual([{ status: 'locked', failed_checks: 3 }]);
  });

  it('the fixed PIN expires like any other: PIN_EXPIRED', async () => {
    const identity = { ...newIdentity(), phone: TEST_NUMBER_3 };
    const res = await register(t, identity);
    expect(res.status).toBe(201);
    await t.db.query("UPDATE login_attempts SET pin_expires_at = now() - interval '1 second' WHERE id = $1", [
      claimsOf(res.body.accessToken).attemptId,
    ]);
    const expired = await verify(t, res.body.accessToken, TEST_PIN);
    expectStatusAndCode(expired, 401, 'PIN_EXPIRED');
    expect(expired.body.accessToken).toBeUndefined();
  });
});

describe('SMS test numbers in production, without SMS_TEST_NUMBERS_IN_PRODUCTION', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { NODE_ENV: 'production', SMS_TEST_NUMBERS: `${TEST_NUMBER}:${TEST_PIN}` },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('are disabled: the number gets a random PIN sent through Xoxzo, the fixed one does not work', async () => {
    const identity = { ...newIdentity(), phone: TEST_NUMBER };
    const requests = t.xoxzo.requests;
    const res = await register(t, identity);
    expect(res.status).toBe(201);
    expect(t.xoxzo.requests).toBeGreaterThan(requests);
    const pin = t.xoxzo.lastPinFor(TEST_NUMBER);
    expect(onlyNewSms(t, TEST_NUMBER).message).toContain(pin);
    // A random PIN equals the fixed one once in a million.
    if (pin !== TEST_PIN)
      expectStatusAndCode(await verify(t, res.body.accessToken, TEST_PIN), 401, 'PIN_INVALID');
    expect((await verify(t, res.body.accessToken, pin)).status).toBe(200);
  });
});

describe('SMS test numbers in production, with SMS_TEST_NUMBERS_IN_PRODUCTION=true', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        NODE_ENV: 'production',
        SMS_TEST_NUMBERS: `${TEST_NUMBER}:${TEST_PIN}`,
        SMS_TEST_NUMBERS_IN_PRODUCTION: 'true',
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('work: nothing sent, the fixed PIN verifies', async () => {
    const identity = { ...newIdentity(), phone: TEST_NUMBER };
    const requests = t.xoxzo.requests;
    const res = await register(t, identity);
    expect(res.status).toBe(201);
    expect(t.xoxzo.requests).toBe(requests);
    expect(t.xoxzo.sent).toHaveLength(0);
    expect((await verify(t, res.body.accessToken, TEST_PIN)).status).toBe(200);
  });
});

describe('delivery status (PUBLIC_BASE_URL set: Xoxzo reports to /sms/xoxzo/delivery-reports)', () => {
  const PUBLIC_BASE_URL = 'http://127.0.0.1:1';
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_BASE_URL } });
  });
  afterAll(async () => {
    await t.close();
  });

  interface Sent {
    identity: Registration;
    token: string;
    attemptId: string;
    msgid: string;
    sms: FakeSms;
    res: HttpResult;
  }

  async function registered(): Promise<Sent> {
    const identity = newIdentity();
    const res = await register(t, identity);
    expect(res.status).toBe(201);
    const sms = onlyNewSms(t, identity.phone);
    const token = res.body.accessToken as string;
    return { identity, token, attemptId: claimsOf(token).attemptId, msgid: sms.msgid, sms, res };
  }

  /** Plays Xoxzo calling the callback URL, at the app's real address. */
  async function report(body: Record<string, string>, as: 'form' | 'json' = 'form'): Promise<number> {
    const url = `${t.url.replace('[::1]', '127.0.0.1')}${DELIVERY_REPORTS_PATH}`;
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': as === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
      },
      body: as === 'form' ? new URLSearchParams(body).toString() : JSON.stringify(body),
    });
    await response.arrayBuffer();
    return response.status;
  }

  async function delivery(token: string): Promise<string> {
    const res = await status(t, token);
    expect(res.status).toBe(200);
    return res.body.delivery as string;
  }

  async function row(msgid: string) {
    const { rows } = await t.db.query(
      'SELECT reference, status, provider_status, cost FROM sms_messages WHERE message_id = $1',
      [msgid],
    );
    expect(rows).toHaveLength(1);
    return rows[0] as {
      reference: string;
      status: string;
      provider_status: string | null;
      cost: string | null;
    };
  }

  async function allRows(): Promise<unknown[]> {
    const { rows } = await t.db.query<Record<string, unknown>>(
      'SELECT * FROM sms_messages ORDER BY message_id',
    );
    return rows;
  }

  it('asks Xoxzo for delivery reports at PUBLIC_BASE_URL + /sms/xoxzo/delivery-reports', async () => {
    const { sms } = await registered();
    expect(sms.fields.callbackurl).toBe(`${PUBLIC_BASE_URL}${DELIVERY_REPORTS_PATH}`);
  });

  it('the challenge says pending; a form-encoded report of DELIVERED → the status says delivered, cost stored', async () => {
    const s = await registered();
    expect(s.res.body.challenge).toMatchObject({ delivery: 'pending', attemptsLeft: 5 });
    expect(await row(s.msgid)).toEqual({
      reference: s.attemptId,
      status: 'pending',
      provider_status: null,
      cost: null,
    });
    expect(await delivery(s.token)).toBe('pending');

    t.xoxzo.setStatus(s.msgid, 'DELIVERED');
    expect(await report({ msgid: s.msgid, status: 'DELIVERED' })).toBe(204);
    expect(t.xoxzo.calls).toContainEqual({ method: 'GET', path: `/sms/messages/${s.msgid}/` });
    const status = await t.get('/auth/2fa/status', s.token);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ channel: 'sms', delivery: 'delivered', attemptsLeft: 5 });
    const stored = await row(s.msgid);
    expect(stored).toMatchObject({ status: 'delivered', provider_status: 'DELIVERED' });
    expect(Number(stored.cost)).toBe(1);
  });

  it('a report of FAILED (form-encoded) → failed', async () => {
    const s = await registered();
    t.xoxzo.setStatus(s.msgid, 'FAILED');
    expect(await report({ msgid: s.msgid, status: 'FAILED' })).toBe(204);
    expect(await delivery(s.token)).toBe('failed');
    expect(await row(s.msgid)).toMatchObject({ status: 'failed', provider_status: 'FAILED' });
  });

  it('a JSON report works too', async () => {
    const s = await registered();
    t.xoxzo.setStatus(s.msgid, 'DELIVERED');
    expect(await report({ msgid: s.msgid, status: 'DELIVERED' }, 'json')).toBe(204);
    expect(await delivery(s.token)).toBe('delivered');
    expect(Number((await row(s.msgid)).cost)).toBe(1);
  });

  it('the payload is not trusted: it claims DELIVERED, Xoxzo says QUEUED → still pending', async () => {
    const s = await registered();
    t.xoxzo.setStatus(s.msgid, 'QUEUED');
    expect(await report({ msgid: s.msgid, status: 'DELIVERED' })).toBe(204);
    expect(await report({ msgid: s.msgid, status: 'DELIVERED' }, 'json')).toBe(204);
    expect(await delivery(s.token)).toBe('pending');
    expect(await row(s.msgid)).toMatchObject({ status: 'pending', provider_status: 'QUEUED' });
  });

  it('a report for an unknown msgid → 204, changes nothing, asks Xoxzo nothing', async () => {
    const s = await registered();
    const unknown = randomBytes(24).toString('hex').slice(0, 32);
    const before = await allRows();
    const calls = t.xoxzo.calls.length;
    const requests = t.xoxzo.requests;
    for (const as of ['form', 'json'] as const) {
      expect(await report({ msgid: unknown, status: 'DELIVERED' }, as)).toBe(204);
    }
    // Malformed or missing ids are answered the same way.
    expect(await report({ msgid: '../you/credits', status: 'DELIVERED' }, 'json')).toBe(204);
    expect(await report({ status: 'DELIVERED' }, 'json')).toBe(204);
    expect(await allRows()).toEqual(before);
    expect(t.xoxzo.calls.length).toBe(calls);
    expect(t.xoxzo.requests).toBe(requests);
    expect(t.xoxzo.calls.some((c) => c.path.includes(unknown))).toBe(false);
    expect(await delivery(s.token)).toBe('pending');
  });

  it('GET /auth/2fa/status: a full token → 401 UNAUTHENTICATED; after verify → 401 CHALLENGE_CLOSED', async () => {
    const { partialToken, session } = await registerAndVerify(t);
    expectStatusAndCode(await status(t, session.accessToken), 401, 'UNAUTHENTICATED');
    expectStatusAndCode(await status(t, partialToken), 401, 'CHALLENGE_CLOSED');
  });
});

describe('a flaky Xoxzo: retries what certainly was not sent, within SMS_DEADLINE_MS (1500 ms)', () => {
  const DEADLINE_MS = 1500;
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_DEADLINE_MS: String(DEADLINE_MS), SMS_BREAKER_THRESHOLD: '1000' } });
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => {
    t.xoxzo.recover();
  });

  it('503 with Retry-After twice, then success → 201 within the deadline, after three requests; the PIN verifies', async () => {
    const identity = newIdentity();
    t.xoxzo.failNext('http503', 2, { retryAfter: 0 });
    const requests = t.xoxzo.requests;
    const [res, elapsed] = await timed(() => register(t, identity));
    expect(res.status).toBe(201);
    expect(elapsed).toBeLessThan(DEADLINE_MS + 500);
    expect(t.xoxzo.requests).toBe(requests + 3);
    onlyNewSms(t, identity.phone);
    expect((await verify(t, res.body.accessToken, t.xoxzo.lastPinFor(identity.phone))).status).toBe(200);
  });

  it('connection refused twice, then success → 201 after three connection attempts; one SMS', async () => {
    const identity = newIdentity();
    t.refuseXoxzoConnections(2);
    const before = { requests: t.xoxzo.requests, refused: t.xoxzo.refused };
    const res = await register(t, identity);
    expect(res.status).toBe(201);
    expect(t.xoxzo.refused).toBe(before.refused + 2);
    expect(t.xoxzo.requests).toBe(before.requests + 1);
    onlyNewSms(t, identity.phone);
  });

  it('always refusing connections → 503 SMS_UNAVAILABLE in about SMS_DEADLINE_MS, never a hang; no account', async () => {
    const identity = newIdentity();
    t.refuseXoxzoConnections(100_000);
    const refused = t.xoxzo.refused;
    const [res, elapsed] = await timed(() => register(t, identity));
    expectStatusAndCode(res, 503, 'SMS_UNAVAILABLE');
    expect(elapsed).toBeLessThan(DEADLINE_MS + 1500);
    // Retried (backoff with jitter) rather than given up after one attempt.
    expect(t.xoxzo.refused - refused).toBeGreaterThanOrEqual(2);
    expect(await usersWithEmail(t, identity.email)).toBe(0);
  });

  it('always timing out → asked once (XOXZO_TIMEOUT_MS=500), 201 delivery unknown: the SMS may be on its way', async () => {
    const identity = newIdentity();
    t.xoxzo.failAlways('timeout');
    const requests = t.xoxzo.requests;
    const [res, elapsed] = await timed(() => register(t, identity));
    expect(res.status).toBe(201);
    expect(res.body.challenge.delivery).toBe('unknown');
    expect(elapsed).toBeLessThan(DEADLINE_MS);
    expect(t.xoxzo.requests).toBe(requests + 1);
    expect(await usersWithEmail(t, identity.email)).toBe(1);
  });

  it('401 (bad credentials) → 503 SMS_UNAVAILABLE after exactly one request: no retry', async () => {
    const identity = newIdentity();
    t.xoxzo.failAlways('http401');
    const requests = t.xoxzo.requests;
    const res = await register(t, identity);
    expectStatusAndCode(res, 503, 'SMS_UNAVAILABLE');
    expect(t.xoxzo.requests).toBe(requests + 1);
    expect(await usersWithEmail(t, identity.email)).toBe(0);
  });
});

describe('the circuit breaker (SMS_BREAKER_THRESHOLD=2, SMS_BREAKER_COOLDOWN_SECONDS=1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { SMS_BREAKER_THRESHOLD: '2', SMS_BREAKER_COOLDOWN_SECONDS: '1', SMS_DEADLINE_MS: '500' },
    });
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => {
    t.xoxzo.recover();
  });

  it('opens after 2 failed sends (uncertain ones count): the 3rd fails fast without a request; /health degraded (200); closes after the cooldown', async () => {
    // A 500 may follow an accepted SMS: each registration is kept (delivery unknown), but the provider is
    // failing, and that is what the breaker counts.
    t.xoxzo.failAlways('http500');
    for (let i = 0; i < 2; i += 1) {
      const requests = t.xoxzo.requests;
      const uncertain = await register(t, newIdentity());
      expect(uncertain.status).toBe(201);
      expect(uncertain.body.challenge.delivery).toBe('unknown');
      expect(t.xoxzo.requests).toBe(requests + 1);
    }

    const requests = t.xoxzo.requests;
    const identity = newIdentity();
    const res = await register(t, identity);
    expectStatusAndCode(res, 503, 'SMS_UNAVAILABLE');
    expect(t.xoxzo.requests).toBe(requests);
    expect(await usersWithEmail(t, identity.email)).toBe(0);

    const health = await t.get('/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('degraded');
    const sms = health.body.info?.sms ?? health.body.details?.sms;
    expect(sms).toMatchObject({ status: 'degraded', driver: 'xoxzo', circuit: 'open' });
    expect(health.body.details.database).toMatchObject({ status: 'up' });

    t.xoxzo.recover();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const back = newIdentity();
    const ok = await register(t, back);
    expect(ok.status).toBe(201);
    onlyNewSms(t, back.phone);
    expect((await verify(t, ok.body.accessToken, t.xoxzo.lastPinFor(back.phone))).status).toBe(200);

    const healthy = await t.get('/health');
    expect(healthy.status).toBe(200);
    expect(healthy.body.status).toBe('ok');
    expect(healthy.body.info.sms).toMatchObject({ status: 'up', circuit: 'closed' });
  });

  it('definite provider-wide refusals (403 out of credit) open it too', async () => {
    t.xoxzo.failAlways('http403');
    for (let i = 0; i < 2; i += 1) {
      expectStatusAndCode(await register(t, newIdentity()), 503, 'SMS_UNAVAILABLE');
    }
    const requests = t.xoxzo.requests;
    expectStatusAndCode(await register(t, newIdentity()), 503, 'SMS_UNAVAILABLE');
    expect(t.xoxzo.requests).toBe(requests);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // let it cool down for the next test
  });

  it('refused recipients do not count: the provider is working', async () => {
    t.xoxzo.failAlways('recipient400');
    for (let i = 0; i < 3; i += 1) {
      expectStatusAndCode(await register(t, newIdentity()), 400, 'VALIDATION_FAILED');
    }
    t.xoxzo.recover();
    const requests = t.xoxzo.requests;
    expect((await register(t, newIdentity())).status).toBe(201);
    expect(t.xoxzo.requests).toBe(requests + 1);
  });
});

describe('/health reports the SMS side', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('driver xoxzo, circuit closed, and the credit balance read from Xoxzo', async () => {
    t.xoxzo.credits = 4242;
    // /health never waits for Xoxzo: the first answer comes at once, and starts the credit read.
    const first = await t.get('/health');
    expect(first.status).toBe(200);
    expect(first.body.info.sms).toMatchObject({ credits: null, creditsCheckedAt: null });
    await t.app.get(SmsHealth).settled();
    const res = await t.get('/health');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.info.sms).toEqual({
      status: 'up',
      driver: 'xoxzo',
      circuit: 'closed',
      credits: 4242,
      creditsCheckedAt: expect.any(String),
    });
    expect(Number.isNaN(Date.parse(res.body.info.sms.creditsCheckedAt))).toBe(false);
    expect(t.xoxzo.calls).toEqual([{ method: 'GET', path: '/you/credits/' }]);
  });
});
