import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import axios from 'axios';
import {
  FAKE_SID,
  FAKE_TOKEN,
  FakeFailure,
  type FakeFailureOptions,
  FakeXoxzo,
} from '../../test/fakes/fake-xoxzo.server.js';
import { loadConfig } from '../app-config.js';
import { SmsDeliveryError } from './sms-sender.js';
import { XoxzoClient } from './xoxzo-client.js';
import { XoxzoSmsSender } from './xoxzo-sms-sender.js';

const RECIPIENT = '+819011112222';
const TIMEOUT_MS = 300;

describe(XoxzoSmsSender.name, () => {
  let fake: FakeXoxzo;
  let logged: string[];

  function sender(env: Record<string, string> = {}): XoxzoSmsSender {
    const config = loadConfig({
      XOXZO_API_SID: FAKE_SID,
      XOXZO_API_AUTH_TOKEN: FAKE_TOKEN,
      XOXZO_API_URL: fake.url,
      XOXZO_TIMEOUT_MS: String(TIMEOUT_MS),
      ...env,
    });
    return new XoxzoSmsSender(config.sms, new XoxzoClient(config.sms, new HttpService(axios.create())));
  }

  async function deliveryError(promise: Promise<unknown>): Promise<SmsDeliveryError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SmsDeliveryError);
    return error as SmsDeliveryError;
  }

  /** A request straight to the fake, as the sender would make it unless overridden. */
  function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${fake.url}${path}`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${FAKE_SID}:${FAKE_TOKEN}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        ...headers,
      },
      body,
    });
  }

  beforeAll(async () => {
    fake = await new FakeXoxzo().start();
  });

  afterAll(async () => {
    await fake.close();
  });

  beforeEach(() => {
    logged = [];
    const record = (message: unknown) => void logged.push(String(message));
    jest.spyOn(Logger.prototype, 'error').mockImplementation(record);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(record);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(record);
  });

  afterEach(() => {
    fake.recover();
    jest.restoreAllMocks();
    // Whatever happened, no log line carries the auth token or the message text.
    for (const line of logged) {
      expect(line).not.toContain(FAKE_TOKEN);
      expect(line).not.toContain('123456');
    }
  });

  describe('success', () => {
    it('returns the msgid and the provider got exactly recipient, sender and message', async () => {
      const before = fake.sent.length;
      const text = 'Your verification code is 123456. It expires in 5 minutes.';
      const sent = await sender({ XOXZO_SENDER: 'MyApp' }).send({ to: RECIPIENT, text });
      expect(sent.messageId).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(fake.sent).toHaveLength(before + 1);
      const sms = fake.sent.at(-1)!;
      expect(sms.msgid).toBe(sent.messageId);
      expect(sms).toMatchObject({ recipient: RECIPIENT, sender: 'MyApp', message: text });
      expect(Object.keys(sms.fields).sort()).toEqual(['message', 'recipient', 'sender']);
    });

    it('sends UTF-8 text intact (Japanese, symbols, + and &)', async () => {
      const text = '認証コード: 123456 (5分間有効) ✓ a+b&c=d %20';
      const sent = await sender().send({ to: RECIPIENT, text });
      const sms = fake.sent.find((s) => s.msgid === sent.messageId);
      expect(sms?.message).toBe(text);
      expect(sms?.sender).toBe('XOXZO');
    });

    it('accepts a message of exactly 660 characters', async () => {
      const text = '認'.repeat(660);
      const sent = await sender().send({ to: RECIPIENT, text });
      expect(fake.sent.find((s) => s.msgid === sent.messageId)?.message).toBe(text);
    });

    it('posts to the path with the trailing slash (the fake 404s without it)', async () => {
      // No PUBLIC_BASE_URL here, so no delivery report will come for it.
      await expect(sender().send({ to: RECIPIENT, text: 'hello' })).resolves.toEqual({
        messageId: expect.stringMatching(/^[A-Za-z0-9]+$/),
        deliveryReports: false,
      });
      const response = await post(
        '/sms/messages',
        new URLSearchParams({ recipient: RECIPIENT, sender: 'XOXZO', message: 'x' }).toString(),
      );
      expect(response.status).toBe(404);
    });

    it('works when XOXZO_API_URL was given with a trailing slash', async () => {
      await expect(
        sender({ XOXZO_API_URL: `${fake.url}/` }).send({ to: RECIPIENT, text: 'hello' }),
      ).resolves.toMatchObject({ messageId: expect.any(String) });
    });
  });

  describe('provider refusals', () => {
    it('wrong credentials → unavailable with providerStatus 401', async () => {
      const before = fake.sent.length;
      const error = await deliveryError(
        sender({ XOXZO_API_AUTH_TOKEN: 'not-the-token' }).send({ to: RECIPIENT, text: 'hello' }),
      );
      expect(error.reason).toBe('unavailable');
      expect(error.providerStatus).toBe(401);
      expect(fake.sent).toHaveLength(before);
    });

    it.each<[FakeFailure, number]>([
      ['http401', 401],
      ['http403', 403],
      ['http429', 429],
      ['http500', 500],
      ['http503', 503],
    ])('%s → unavailable with providerStatus %i', async (failure, status) => {
      fake.failNext(failure);
      const error = await deliveryError(sender().send({ to: RECIPIENT, text: 'hello' }));
      expect(error.reason).toBe('unavailable');
      expect(error.providerStatus).toBe(status);
    });

    it('recipient400 → recipient_rejected', async () => {
      fake.failNext('recipient400');
      const error = await deliveryError(sender().send({ to: RECIPIENT, text: 'hello' }));
      expect(error.reason).toBe('recipient_rejected');
      expect(error.providerStatus).toBe(400);
    });

    it('a recipient that kept its trunk 0 → recipient_rejected', async () => {
      const error = await deliveryError(sender().send({ to: '+8108012345678', text: 'hello' }));
      expect(error.reason).toBe('recipient_rejected');
      expect(error.providerStatus).toBe(400);
    });

    it('a message over 660 characters → unavailable (400), nothing sent', async () => {
      const before = fake.sent.length;
      const error = await deliveryError(sender().send({ to: RECIPIENT, text: 'x'.repeat(661) }));
      expect(error.reason).toBe('unavailable');
      expect(error.providerStatus).toBe(400);
      expect(fake.sent).toHaveLength(before);
    });
  });

  describe('transport failures', () => {
    it('a provider that never answers → unavailable, within the timeout; it may have been sent', async () => {
      fake.failNext('timeout');
      const started = Date.now();
      const error = await deliveryError(sender().send({ to: RECIPIENT, text: 'hello' }));
      const elapsed = Date.now() - started;
      expect(error.reason).toBe('unavailable');
      expect(error).toMatchObject({ mayHaveBeenSent: true, retryable: false });
      expect(error.providerStatus).toBeUndefined();
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(2000);
    });

    it('a connection reset after the request was written → unavailable, may have been sent', async () => {
      fake.failNext('reset');
      const error = await deliveryError(sender().send({ to: RECIPIENT, text: 'hello' }));
      expect(error.reason).toBe('unavailable');
      expect(error.providerStatus).toBeUndefined();
      expect(error).toMatchObject({ mayHaveBeenSent: true, retryable: false });
    });

    it('nothing listening → unavailable, certainly not sent: retryable', async () => {
      const closed = await new FakeXoxzo().start();
      const url = closed.url;
      await closed.close();
      const error = await deliveryError(
        sender({ XOXZO_API_URL: url }).send({ to: RECIPIENT, text: 'hello' }),
      );
      expect(error.reason).toBe('unavailable');
      expect(error).toMatchObject({ kind: 'transport', mayHaveBeenSent: false, retryable: true });
    });
  });

  describe('the fake is as strict as the documented API', () => {
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

    it('404s a path without its trailing slash', async () => {
      const response = await post(
        '/sms/messages',
        form({ recipient: RECIPIENT, sender: 'XOXZO', message: 'x' }),
      );
      expect(response.status).toBe(404);
    });

    it('400s a non-E.164 recipient under the key recipient', async () => {
      const response = await post(
        '/sms/messages/',
        form({ recipient: '+8108012345678', sender: 'XOXZO', message: 'x' }),
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ recipient: expect.any(Array) });
    });

    it('400s an 11-letter sender under the key sender', async () => {
      const response = await post(
        '/sms/messages/',
        form({ recipient: RECIPIENT, sender: 'ABCDEFGHIJK', message: 'x' }),
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ sender: expect.any(Array) });
    });

    it('400s a message over 660 characters under the key message', async () => {
      const response = await post(
        '/sms/messages/',
        form({ recipient: RECIPIENT, sender: 'XOXZO', message: 'x'.repeat(661) }),
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ message: expect.any(Array) });
    });

    it('415s a JSON body: the freeform send is form-encoded', async () => {
      const response = await post(
        '/sms/messages/',
        JSON.stringify({ recipient: RECIPIENT, sender: 'XOXZO', message: 'x' }),
        { 'Content-Type': 'application/json' },
      );
      expect(response.status).toBe(415);
    });

    it('accepts the same request form-encoded', async () => {
      const response = await post(
        '/sms/messages/',
        form({ recipient: RECIPIENT, sender: 'XOXZO', message: 'x' }),
      );
      expect(response.status).toBe(201);
      expect(await response.json()).toEqual([{ msgid: expect.any(String) }]);
    });
  });

  describe('template mode', () => {
    const OTP = { code: '123456', minutes: 5 };
    const TEMPLATES = { XOXZO_TEMPLATE_IDS: 'en:tpl-en,ja:tpl-ja', XOXZO_TEMPLATE_ID: 'tpl-default' };

    beforeAll(() => {
      fake.templates.set('tpl-en', { body: 'Your code is {pin}, valid {minutes} min', status: 'APPROVED' });
      fake.templates.set('tpl-ja', { body: '認証コード {pin}（{minutes}分）', status: 'APPROVED' });
      fake.templates.set('tpl-default', { body: 'Code: {pin}', status: 'APPROVED' });
      fake.templates.set('tpl-custom', { body: 'Your code is {code} ({ttl} min)', status: 'APPROVED' });
      fake.templates.set('tpl-pending', { body: 'Your code is {pin}', status: 'PENDING' });
    });

    it('sends the template of the locale, as JSON with the PIN and minutes as variables', async () => {
      const sent = await sender(TEMPLATES).send({ to: RECIPIENT, text: 'ignored', locale: 'ja', otp: OTP });
      const sms = fake.sent.find((s) => s.msgid === sent.messageId)!;
      expect(sms).toMatchObject({
        templateId: 'tpl-ja',
        variables: { pin: '123456', minutes: '5' },
        recipient: RECIPIENT,
        sender: 'XOXZO',
        message: '認証コード 123456（5分）',
      });
      expect(Object.keys(sms.fields).sort()).toEqual(['recipient', 'sender']);
    });

    it.each([
      ['en', 'tpl-en'],
      ['ja-JP', 'tpl-ja'],
      ['EN', 'tpl-en'],
      ['fr', 'tpl-default'],
      [undefined, 'tpl-default'],
    ])('locale %p → template %s', async (locale, templateId) => {
      const sent = await sender(TEMPLATES).send({ to: RECIPIENT, text: 'ignored', locale, otp: OTP });
      expect(fake.sent.find((s) => s.msgid === sent.messageId)?.templateId).toBe(templateId);
    });

    it('uses the configured variable names', async () => {
      const sent = await sender({
        XOXZO_TEMPLATE_ID: 'tpl-custom',
        XOXZO_TEMPLATE_PIN_VARIABLE: 'code',
        XOXZO_TEMPLATE_MINUTES_VARIABLE: 'ttl',
      }).send({ to: RECIPIENT, text: 'ignored', otp: { code: '654321', minutes: 10 } });
      const sms = fake.sent.find((s) => s.msgid === sent.messageId)!;
      expect(sms.variables).toEqual({ code: '654321', ttl: '10' });
      expect(sms.message).toBe('Your code is 654321 (10 min)');
    });

    it('a locale without template and no default is refused at boot (template-only accounts cannot send freeform)', () => {
      expect(() => loadConfig({ XOXZO_TEMPLATE_IDS: 'ja:tpl-ja' })).toThrow(
        /XOXZO_TEMPLATE_IDS: no template for en/,
      );
    });

    it('no template configured → freeform, even with OTP values', async () => {
      const sent = await sender().send({ to: RECIPIENT, text: 'plain', locale: 'ja', otp: OTP });
      const sms = fake.sent.find((s) => s.msgid === sent.messageId)!;
      expect(sms.templateId).toBeUndefined();
      expect(Object.keys(sms.fields).sort()).toEqual(['message', 'recipient', 'sender']);
    });

    it('an SMS without OTP values → freeform, with a warning', async () => {
      const sent = await sender(TEMPLATES).send({ to: RECIPIENT, text: 'no otp here', locale: 'en' });
      expect(fake.sent.find((s) => s.msgid === sent.messageId)?.message).toBe('no otp here');
      expect(logged.some((line) => /no OTP values/.test(line))).toBe(true);
    });

    it('a PENDING template → rejected_request (unavailable, 400), logged at error level', async () => {
      const errors = jest.mocked(Logger.prototype.error);
      const error = await deliveryError(
        sender({ XOXZO_TEMPLATE_ID: 'tpl-pending' }).send({ to: RECIPIENT, text: 'x', otp: OTP }),
      );
      expect(error).toMatchObject({ reason: 'unavailable', kind: 'rejected_request', providerStatus: 400 });
      expect(errors).toHaveBeenCalledWith(expect.stringContaining('Template is not approved'));
    });

    it('an unknown template → rejected_request (404)', async () => {
      const error = await deliveryError(
        sender({ XOXZO_TEMPLATE_ID: 'tpl-nope' }).send({ to: RECIPIENT, text: 'x', otp: OTP }),
      );
      expect(error).toMatchObject({ reason: 'unavailable', kind: 'rejected_request', providerStatus: 404 });
    });

    it('a rejected recipient is still recipient_rejected in template mode', async () => {
      const error = await deliveryError(
        sender(TEMPLATES).send({ to: '+8108012345678', text: 'x', otp: OTP }),
      );
      expect(error).toMatchObject({ reason: 'recipient_rejected', kind: 'recipient_rejected' });
    });
  });

  describe('error kinds and alarms', () => {
    it.each<[FakeFailure, string, 'error' | 'warn']>([
      ['http401', 'credentials', 'error'],
      ['http403', 'no_credit', 'error'],
      ['http429', 'throttled', 'warn'],
      ['http500', 'provider_error', 'warn'],
      ['reset', 'transport', 'warn'],
    ])('%s → kind %s, logged at %s level', async (failure, kind, level) => {
      const error = jest.mocked(Logger.prototype.error);
      const warn = jest.mocked(Logger.prototype.warn);
      fake.failNext(failure);
      const failed = await deliveryError(sender().send({ to: RECIPIENT, text: 'hello' }));
      expect(failed.kind).toBe(kind);
      expect(failed.reason).toBe('unavailable');
      expect(failed.cause).toBeDefined();
      expect((level === 'error' ? error : warn).mock.calls.length).toBeGreaterThan(0);
      expect((level === 'error' ? warn : error).mock.calls.length).toBe(0);
    });

    it('429 carries the Retry-After', async () => {
      fake.failNext('http429', 1, { retryAfter: 3 });
      const error = await deliveryError(sender().send({ to: RECIPIENT, text: 'hello' }));
      expect(error.retryAfterMs).toBe(3000);
      expect(error.transient).toBe(true);
    });

    it('400 and 401 are not transient; 5xx and transport are', async () => {
      fake.failNext('http401');
      expect((await deliveryError(sender().send({ to: RECIPIENT, text: 'x' }))).transient).toBe(false);
      fake.failNext('recipient400');
      expect((await deliveryError(sender().send({ to: RECIPIENT, text: 'x' }))).transient).toBe(false);
      fake.failNext('http503');
      expect((await deliveryError(sender().send({ to: RECIPIENT, text: 'x' }))).transient).toBe(true);
      fake.failNext('timeout');
      expect((await deliveryError(sender().send({ to: RECIPIENT, text: 'x' }))).transient).toBe(true);
    });

    it.each<[FakeFailure, FakeFailureOptions, boolean, boolean]>([
      ['http429', {}, false, true],
      ['http503', { retryAfter: 1 }, false, true],
      ['http503', {}, true, false],
      ['http500', {}, true, false],
      ['timeout', {}, true, false],
      ['http401', {}, false, false],
      ['http403', {}, false, false],
      ['recipient400', {}, false, false],
    ])('%s %p → mayHaveBeenSent %p, retryable %p', async (failure, options, mayHaveBeenSent, retryable) => {
      fake.failNext(failure, 1, options);
      const error = await deliveryError(sender().send({ to: RECIPIENT, text: 'x' }));
      expect({ mayHaveBeenSent: error.mayHaveBeenSent, retryable: error.retryable }).toEqual({
        mayHaveBeenSent,
        retryable,
      });
    });
  });

  describe('delivery reports (callbackurl)', () => {
    let receiver: Server;
    let receiverUrl: string;
    let reports: { path: string; type: string; body: string }[];

    beforeAll(async () => {
      receiver = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          reports.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    });

    beforeEach(() => {
      reports = [];
    });

    const CALLBACK = 'https://auth.example.com/sms/xoxzo/delivery-reports?id=1f0c&sig=ab12';

    it("freeform sends carry the SMS's callbackUrl as callbackurl", async () => {
      const sent = await sender().send({ to: RECIPIENT, text: 'hello', callbackUrl: CALLBACK });
      const sms = fake.sent.find((s) => s.msgid === sent.messageId)!;
      expect(sms.fields.callbackurl).toBe(CALLBACK);
      expect(sent.deliveryReports).toBe(true);
    });

    it('template sends carry it too', async () => {
      fake.templates.set('tpl-cb', { body: 'Your code is {pin}', status: 'APPROVED' });
      const sent = await sender({ XOXZO_TEMPLATE_ID: 'tpl-cb' }).send({
        to: RECIPIENT,
        text: 'x',
        otp: { code: '123456', minutes: 5 },
        callbackUrl: CALLBACK,
      });
      const sms = fake.sent.find((s) => s.msgid === sent.messageId)!;
      expect(sms.templateId).toBe('tpl-cb');
      expect(sms.fields.callbackurl).toBe(CALLBACK);
    });

    it('no callbackUrl → no callbackurl, even with PUBLIC_BASE_URL (the URL is per message)', async () => {
      const sent = await sender({ PUBLIC_BASE_URL: 'https://auth.example.com' }).send({
        to: RECIPIENT,
        text: 'hello',
      });
      expect(fake.sent.find((s) => s.msgid === sent.messageId)?.fields).not.toHaveProperty('callbackurl');
      expect(sent.deliveryReports).toBe(false);
    });

    it('the fake reports delivery to that URL, form-encoded, with msgid and status', async () => {
      const callbackUrl = `${receiverUrl}/sms/xoxzo/delivery-reports?id=abc&sig=def`;
      const sent = await sender().send({ to: RECIPIENT, text: 'hello', callbackUrl });
      fake.setStatus(sent.messageId!, 'FAILED');
      await expect(fake.deliveryReport(sent.messageId!)).resolves.toBe(204);
      expect(reports).toHaveLength(1);
      expect(reports[0].path).toBe('/sms/xoxzo/delivery-reports?id=abc&sig=def');
      expect(reports[0].type).toMatch(/^application\/x-www-form-urlencoded/);
      expect(Object.fromEntries(new URLSearchParams(reports[0].body))).toEqual({
        msgid: sent.messageId,
        status: 'FAILED',
      });
    });
  });

  describe('the fake template endpoint is as strict as the documented API', () => {
    const json = (body: unknown) => JSON.stringify(body);
    const JSON_TYPE = { 'Content-Type': 'application/json' };
    const good = { sender: 'XOXZO', recipient: RECIPIENT, variables: { pin: '123456' } };

    beforeAll(() => {
      fake.templates.set('strict', { body: 'Your code is {pin}', status: 'APPROVED' });
      fake.templates.set('strict-pending', { body: 'Your code is {pin}', status: 'PENDING' });
    });

    it('accepts a JSON send and records the rendering, template and variables', async () => {
      const response = await post('/sms/templates/strict/messages/', json(good), JSON_TYPE);
      expect(response.status).toBe(201);
      const [{ msgid }] = (await response.json()) as [{ msgid: string }];
      expect(fake.sent.find((s) => s.msgid === msgid)).toMatchObject({
        message: 'Your code is 123456',
        templateId: 'strict',
        variables: { pin: '123456' },
      });
    });

    it('415s a form-encoded body', async () => {
      const response = await post(
        '/sms/templates/strict/messages/',
        new URLSearchParams({ recipient: RECIPIENT, sender: 'XOXZO' }).toString(),
      );
      expect(response.status).toBe(415);
    });

    it('404s without the trailing slash, and an unknown template', async () => {
      expect((await post('/sms/templates/strict/messages', json(good), JSON_TYPE)).status).toBe(404);
      expect((await post('/sms/templates/nope/messages/', json(good), JSON_TYPE)).status).toBe(404);
    });

    it('401s without the right Basic auth', async () => {
      const response = await post('/sms/templates/strict/messages/', json(good), {
        ...JSON_TYPE,
        Authorization: 'Basic ' + Buffer.from(`${FAKE_SID}:wrong`).toString('base64'),
      });
      expect(response.status).toBe(401);
    });

    it('400s a PENDING template', async () => {
      const response = await post('/sms/templates/strict-pending/messages/', json(good), JSON_TYPE);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ non_field_errors: ['Template is not approved'] });
    });

    it('400s a missing variable', async () => {
      const response = await post(
        '/sms/templates/strict/messages/',
        json({ ...good, variables: { code: '123456' } }),
        JSON_TYPE,
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ variables: [expect.stringContaining('pin')] });
    });

    it('400s a bad recipient and a bad sender under their keys', async () => {
      const response = await post(
        '/sms/templates/strict/messages/',
        json({ ...good, recipient: '+8108012345678', sender: 'ABCDEFGHIJK' }),
        JSON_TYPE,
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ recipient: expect.any(Array), sender: expect.any(Array) });
    });
  });
});
