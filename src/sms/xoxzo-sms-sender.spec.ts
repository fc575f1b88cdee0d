import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import axios from 'axios';
import { FAKE_SID, FAKE_TOKEN, FakeFailure, FakeXoxzo } from '../../test/fakes/fake-xoxzo.server.js';
import { loadConfig } from '../config/app-config.js';
import { SmsDeliveryError } from './sms-sender.js';
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
    return new XoxzoSmsSender(config, new HttpService(axios.create()));
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
      await expect(sender().send({ to: RECIPIENT, text: 'hello' })).resolves.toEqual({
        messageId: expect.stringMatching(/^[A-Za-z0-9]+$/),
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
    it('a provider that never answers → unavailable, within the timeout', async () => {
      fake.failNext('timeout');
      const started = Date.now();
      const error = await deliveryError(sender().send({ to: RECIPIENT, text: 'hello' }));
      const elapsed = Date.now() - started;
      expect(error.reason).toBe('unavailable');
      expect(error.providerStatus).toBeUndefined();
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(2000);
    });

    it('a connection reset → unavailable', async () => {
      fake.failNext('reset');
      const error = await deliveryError(sender().send({ to: RECIPIENT, text: 'hello' }));
      expect(error.reason).toBe('unavailable');
      expect(error.providerStatus).toBeUndefined();
    });

    it('nothing listening → unavailable', async () => {
      const closed = await new FakeXoxzo().start();
      const url = closed.url;
      await closed.close();
      const error = await deliveryError(
        sender({ XOXZO_API_URL: url }).send({ to: RECIPIENT, text: 'hello' }),
      );
      expect(error.reason).toBe('unavailable');
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
});
