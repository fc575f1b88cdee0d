import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { FakeSms } from './fakes/fake-xoxzo.server.js';
import { claimsOf, login, register, Registration, status, verify } from './support/auth-api.js';
import { rateLimited, usersWithEmail } from './support/db.js';
import { expectStatusAndCode } from './support/expect-error.js';
import { HttpResult, newIdentity, registerAndVerify, startTestApp, TestApp } from './support/test-app.js';
import { awayFromWindowEnd, MINUTE } from './support/windows.js';
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
    expect(sms.message).toBe(
      `XOXZO: your verification code is ${pin}. It expires in 5 minutes. Do not share it.`,
    );
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
    ['English', undefined, /^XOXZO: your verification code is (\d{6})\./],
    ['Japanese', 'ja', /^【XOXZO】認証コード: (\d{6})（5分間有効）。誰にも教えないでください。\n/],
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

interface Sent {
  identity: Registration;
  token: string;
  attemptId: string;
  msgid: string;
  sms: FakeSms;
  res: HttpResult;
}

/** What one delivery-report POST is made of: the query of its URL and its body. */
interface Report {
  query: string;
  body: Record<string, string>;
  as?: 'form' | 'json';
}

/** Delivery reports at the app's real address (PUBLIC_BASE_URL is not where the app listens in tests). */
function reportsTo(t: TestApp) {
  const base = `${t.url.replace('[::1]', '127.0.0.1')}${DELIVERY_REPORTS_PATH}`;
  async function post({ query, body, as = 'form' }: Report, headers: Record<string, string> = {}) {
    const response = await fetch(`${base}${query}`, {
      method: 'POST',
      headers: {
        'content-type': as === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
        ...headers,
      },
      body: as === 'form' ? new URLSearchParams(body).toString() : JSON.stringify(body),
    });
    await response.arrayBuffer();
    return response.status;
  }
  return {
    post,
    /** Plays Xoxzo: the report goes to the message's own callback URL (its signed query), with its msgid. */
    signed(
      s: Sent,
      status = 'DELIVERED',
      as: 'form' | 'json' = 'form',
      headers: Record<string, string> = {},
    ) {
      const query = new URL(s.sms.fields.callbackurl).search;
      return post({ query, body: { msgid: s.msgid, status }, as }, headers);
    },
  };
}

async function registered(t: TestApp): Promise<Sent> {
  const identity = newIdentity();
  const res = await register(t, identity);
  expect(res.status).toBe(201);
  const sms = onlyNewSms(t, identity.phone);
  const token = res.body.accessToken as string;
  return { identity, token, attemptId: claimsOf(token).attemptId, msgid: sms.msgid, sms, res };
}

async function smsRow(t: TestApp, msgid: string) {
  const { rows } = await t.db.query(
    'SELECT id, reference, status, provider_status, cost, checked_at FROM sms_messages WHERE message_id = $1',
    [msgid],
  );
  expect(rows).toHaveLength(1);
  return rows[0] as {
    id: string;
    reference: string;
    status: string;
    provider_status: string | null;
    cost: string | null;
    checked_at: Date | null;
  };
}

/** Lets the 30 s between two status reads of this message pass. */
async function afterReadInterval(t: TestApp, msgid: string): Promise<void> {
  await t.db.query(
    "UPDATE sms_messages SET checked_at = checked_at - interval '31 seconds' WHERE message_id = $1",
    [msgid],
  );
}

describe('delivery status (PUBLIC_BASE_URL set: Xoxzo reports to a signed URL per message)', () => {
  const PUBLIC_BASE_URL = 'http://127.0.0.1:1';
  let t: TestApp;
  let reports: ReturnType<typeof reportsTo>;
  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_BASE_URL } });
    reports = reportsTo(t);
  });
  afterAll(async () => {
    await t.close();
  });

  async function delivery(token: string): Promise<string> {
    const res = await status(t, token);
    expect(res.status).toBe(200);
    return res.body.delivery as string;
  }

  async function allRows(): Promise<unknown[]> {
    const { rows } = await t.db.query<Record<string, unknown>>('SELECT * FROM sms_messages ORDER BY id');
    return rows;
  }

  /** The status-report counters the per-IP limit keeps. */
  const limitRows = () => t.db.query(`SELECT * FROM rate_limit_counters WHERE key LIKE 'sms-dlr:%'`);

  it('asks Xoxzo to report to PUBLIC_BASE_URL/sms/xoxzo/delivery-reports?id=<its row>&sig=<128-bit hex>, one URL per message', async () => {
    const a = await registered(t);
    const b = await registered(t);
    for (const s of [a, b]) {
      const url = new URL(s.sms.fields.callbackurl);
      expect(`${url.origin}${url.pathname}`).toBe(`${PUBLIC_BASE_URL}${DELIVERY_REPORTS_PATH}`);
      expect([...url.searchParams.keys()]).toEqual(['id', 'sig']);
      expect(url.searchParams.get('id')).toBe((await smsRow(t, s.msgid)).id);
      expect(url.searchParams.get('sig')).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(a.sms.fields.callbackurl).not.toBe(b.sms.fields.callbackurl);
  });

  it('the challenge says pending; a signed form-encoded report of DELIVERED → the status says delivered, cost stored', async () => {
    const s = await registered(t);
    expect(s.res.body.challenge).toMatchObject({ delivery: 'pending', attemptsLeft: 5 });
    expect(await smsRow(t, s.msgid)).toMatchObject({
      reference: s.attemptId,
      status: 'pending',
      provider_status: null,
      cost: null,
      checked_at: null,
    });
    expect(await delivery(s.token)).toBe('pending');

    t.xoxzo.setStatus(s.msgid, 'DELIVERED');
    expect(await reports.signed(s, 'DELIVERED')).toBe(204);
    expect(t.xoxzo.statusReads(s.msgid)).toBe(1);
    const status = await t.get('/auth/2fa/status', s.token);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ channel: 'sms', delivery: 'delivered', attemptsLeft: 5 });
    const stored = await smsRow(t, s.msgid);
    expect(stored).toMatchObject({ status: 'delivered', provider_status: 'DELIVERED' });
    expect(Number(stored.cost)).toBe(1);
    expect(stored.checked_at).toBeInstanceOf(Date);
  });

  it('a signed report of FAILED (form-encoded) → failed', async () => {
    const s = await registered(t);
    t.xoxzo.setStatus(s.msgid, 'FAILED');
    expect(await reports.signed(s, 'FAILED')).toBe(204);
    expect(await delivery(s.token)).toBe('failed');
    expect(await smsRow(t, s.msgid)).toMatchObject({ status: 'failed', provider_status: 'FAILED' });
  });

  it('a signed JSON report works too', async () => {
    const s = await registered(t);
    t.xoxzo.setStatus(s.msgid, 'DELIVERED');
    expect(await reports.signed(s, 'DELIVERED', 'json')).toBe(204);
    expect(await delivery(s.token)).toBe('delivered');
    expect(Number((await smsRow(t, s.msgid)).cost)).toBe(1);
  });

  it('the payload is not trusted: it claims DELIVERED, Xoxzo says QUEUED → still pending', async () => {
    const s = await registered(t);
    t.xoxzo.setStatus(s.msgid, 'QUEUED');
    expect(await reports.signed(s, 'DELIVERED')).toBe(204);
    expect(await delivery(s.token)).toBe('pending');
    expect(await smsRow(t, s.msgid)).toMatchObject({ status: 'pending', provider_status: 'QUEUED' });
  });

  it('without a valid signature → 204 and nothing at all: no Xoxzo read, no row or counter changed', async () => {
    const s = await registered(t);
    const other = await registered(t);
    t.xoxzo.setStatus(s.msgid, 'DELIVERED');
    const url = new URL(s.sms.fields.callbackurl);
    const id = url.searchParams.get('id')!;
    const sig = url.searchParams.get('sig')!;
    const otherSig = new URL(other.sms.fields.callbackurl).searchParams.get('sig')!;
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`;
    const body = { msgid: s.msgid, status: 'DELIVERED' };
    const before = {
      rows: await allRows(),
      limits: (await limitRows()).rows,
      calls: t.xoxzo.calls.length,
      reads: t.xoxzo.statusReads(),
    };
    const forged: Report[] = [
      { query: '', body }, // the old, unsigned URL
      { query: `?id=${id}`, body },
      { query: `?id=${id}&sig=${flipped}`, body },
      { query: `?id=${id}&sig=${otherSig}`, body }, // another message's signature
      { query: `?id=${id}&sig=${sig.toUpperCase()}`, body },
      { query: `?id=${id}&sig=${sig.slice(0, 30)}`, body },
      { query: `?id=${id}&sig=${sig}00`, body },
      { query: `?id=${id.toUpperCase()}&sig=${sig}`, body },
      { query: `?id=${id}&id=${id}&sig=${sig}&sig=${sig}`, body },
      { query: `?id=../you/credits/&sig=${sig}`, body },
      { query: '', body, as: 'json' },
    ];
    for (const report of forged)
      expect([report.query, await reports.post(report)]).toEqual([report.query, 204]);
    expect(await allRows()).toEqual(before.rows);
    expect((await limitRows()).rows).toEqual(before.limits);
    expect(t.xoxzo.calls.length).toBe(before.calls);
    expect(t.xoxzo.statusReads()).toBe(before.reads);
    expect(await delivery(s.token)).toBe('pending');

    // The control: the same report at the signed URL is read.
    expect(await reports.signed(s)).toBe(204);
    expect(t.xoxzo.statusReads(s.msgid)).toBe(1);
    expect(await delivery(s.token)).toBe('delivered');
  });

  it("a signed report naming another msgid → 204, nothing read: a row's URL acts for that row only", async () => {
    const s = await registered(t);
    const other = await registered(t);
    const query = new URL(s.sms.fields.callbackurl).search;
    for (const msgid of [other.msgid, randomBytes(16).toString('hex'), '']) {
      expect(await reports.post({ query, body: { msgid, status: 'DELIVERED' } })).toBe(204);
    }
    expect(await reports.post({ query, body: { msgid: 42 } as never, as: 'json' })).toBe(204);
    expect(t.xoxzo.statusReads(s.msgid) + t.xoxzo.statusReads(other.msgid)).toBe(0);
    expect(await smsRow(t, s.msgid)).toMatchObject({ status: 'pending', checked_at: null });
    // A signed report without a msgid is taken as this row's.
    t.xoxzo.setStatus(s.msgid, 'DELIVERED');
    expect(await reports.post({ query, body: { status: 'DELIVERED' } })).toBe(204);
    expect(t.xoxzo.statusReads(s.msgid)).toBe(1);
    expect(await delivery(s.token)).toBe('delivered');
  });

  it('at most one Xoxzo read per message per 30 s: a second report is not read, one after 30 s is', async () => {
    const s = await registered(t);
    t.xoxzo.setStatus(s.msgid, 'QUEUED');
    expect(await reports.signed(s)).toBe(204);
    expect(await reports.signed(s)).toBe(204);
    expect(t.xoxzo.statusReads(s.msgid)).toBe(1);

    t.xoxzo.setStatus(s.msgid, 'DELIVERED');
    expect(await reports.signed(s)).toBe(204);
    expect(t.xoxzo.statusReads(s.msgid)).toBe(1);
    expect(await delivery(s.token)).toBe('pending');

    await afterReadInterval(t, s.msgid);
    expect(await reports.signed(s)).toBe(204);
    expect(t.xoxzo.statusReads(s.msgid)).toBe(2);
    expect(await delivery(s.token)).toBe('delivered');
    // A final status is never read again.
    await afterReadInterval(t, s.msgid);
    expect(await reports.signed(s)).toBe(204);
    expect(t.xoxzo.statusReads(s.msgid)).toBe(2);
  });

  it('10 reports at once → one Xoxzo read (the read is claimed in one conditional update)', async () => {
    const s = await registered(t);
    t.xoxzo.setStatus(s.msgid, 'DELIVERED');
    const answers = await Promise.all(Array.from({ length: 10 }, () => reports.signed(s)));
    expect(answers).toEqual(Array<number>(10).fill(204));
    expect(t.xoxzo.statusReads(s.msgid)).toBe(1);
    expect(await delivery(s.token)).toBe('delivered');
  });

  it('a send whose answer was lost has no msgid: its signed URL reads nothing', async () => {
    const identity = newIdentity();
    t.xoxzo.failNext('http500', 1, { accepted: true });
    const res = await register(t, identity);
    expect(res.status).toBe(201);
    expect(res.body.challenge.delivery).toBe('unknown');
    const sms = onlyNewSms(t, identity.phone);
    const { rows } = await t.db.query('SELECT message_id, status FROM sms_messages WHERE reference = $1', [
      claimsOf(res.body.accessToken).attemptId,
    ]);
    expect(rows).toEqual([{ message_id: null, status: 'unknown' }]);
    const reads = t.xoxzo.statusReads();
    const query = new URL(sms.fields.callbackurl).search;
    expect(await reports.post({ query, body: { msgid: sms.msgid, status: 'DELIVERED' } })).toBe(204);
    expect(t.xoxzo.statusReads()).toBe(reads);
  });

  it('a send that certainly failed leaves no row', async () => {
    const identity = newIdentity();
    const before = await allRows();
    t.xoxzo.failNext('http401');
    expectStatusAndCode(await register(t, identity), 503, 'SMS_UNAVAILABLE');
    expect(await allRows()).toEqual(before);
  });

  it('GET /auth/2fa/status: a full token → 401 UNAUTHENTICATED; after verify → 401 CHALLENGE_CLOSED', async () => {
    const { partialToken, session } = await registerAndVerify(t);
    expectStatusAndCode(await status(t, session.accessToken), 401, 'UNAUTHENTICATED');
    expectStatusAndCode(await status(t, partialToken), 401, 'CHALLENGE_CLOSED');
  });
});

describe('delivery reports per client IP (SMS_DELIVERY_REPORTS_PER_IP_MINUTE=3, TRUST_PROXY=loopback)', () => {
  let t: TestApp;
  let reports: ReturnType<typeof reportsTo>;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        PUBLIC_BASE_URL: 'http://127.0.0.1:1',
        SMS_DELIVERY_REPORTS_PER_IP_MINUTE: '3',
        TRUST_PROXY: 'loopback',
      },
    });
    reports = reportsTo(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('acts on 3 signed reports a minute from one IP, ignores the 4th (still 204), counts IPs apart; unsigned posts cost nothing', async () => {
    await awayFromWindowEnd(MINUTE);
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    const messages = [await registered(t), await registered(t), await registered(t), await registered(t)];
    for (const s of messages) t.xoxzo.setStatus(s.msgid, 'DELIVERED');

    // Unsigned posts are not even counted.
    for (let i = 0; i < 5; i += 1) {
      expect(await reports.post({ query: '', body: { msgid: messages[0].msgid } }, from('203.0.113.7'))).toBe(
        204,
      );
    }
    for (const s of messages.slice(0, 3))
      expect(await reports.signed(s, 'DELIVERED', 'form', from('203.0.113.7'))).toBe(204);
    expect(messages.slice(0, 3).map((s) => t.xoxzo.statusReads(s.msgid))).toEqual([1, 1, 1]);

    const last = messages[3];
    expect(await reports.signed(last, 'DELIVERED', 'form', from('203.0.113.7'))).toBe(204);
    expect(t.xoxzo.statusReads(last.msgid)).toBe(0);
    expect(await smsRow(t, last.msgid)).toMatchObject({ status: 'pending', checked_at: null });
    expect(await rateLimited(t, 'sms_delivery_reports_per_ip_minute')).toBe(1);

    // Another client IP has its own budget.
    expect(await reports.signed(last, 'DELIVERED', 'form', from('198.51.100.9'))).toBe(204);
    expect(t.xoxzo.statusReads(last.msgid)).toBe(1);
    expect((await smsRow(t, last.msgid)).status).toBe('delivered');
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
    // No PUBLIC_BASE_URL here: no delivery reports are asked for.
    expect(onlyNewSms(t, identity.phone).fields).not.toHaveProperty('callbackurl');
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
