import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import axios, { type AxiosInstance } from 'axios';
import {
  FAKE_SID,
  FAKE_TOKEN,
  type FakeFailure,
  type FakeFailureOptions,
  FakeXoxzo,
  REFUSING_URL,
} from '../../test/fakes/fake-xoxzo.server.js';
import { loadConfig } from '../app-config.js';
import { normaliseXoxzoStatus, parseRetryAfter, XoxzoClient, XoxzoError } from './xoxzo-client.js';
import { mayHaveReachedXoxzo } from './xoxzo-outcome.js';

const RECIPIENT = '+819055556666';

describe(XoxzoClient.name, () => {
  let fake: FakeXoxzo;

  function client(env: Record<string, string> = {}, http: AxiosInstance = axios.create()): XoxzoClient {
    const config = loadConfig({
      XOXZO_API_SID: FAKE_SID,
      XOXZO_API_AUTH_TOKEN: FAKE_TOKEN,
      XOXZO_API_URL: fake.url,
      XOXZO_TIMEOUT_MS: '300',
      ...env,
    });
    return new XoxzoClient(config.sms, new HttpService(http));
  }

  /** The XoxzoError a freeform send to RECIPIENT rejects with. */
  async function sendError(sending: XoxzoClient = client()): Promise<XoxzoError> {
    const error = await sending.sendFreeform({ recipient: RECIPIENT, message: 'hello' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(XoxzoError);
    return error as XoxzoError;
  }

  async function sendOne(): Promise<string> {
    const msgid = await client().sendFreeform({ recipient: RECIPIENT, message: 'hello' });
    if (!msgid) throw new Error('no msgid');
    return msgid;
  }

  beforeAll(async () => {
    fake = await new FakeXoxzo().start();
  });

  afterAll(async () => {
    await fake.close();
  });

  afterEach(() => {
    fake.recover();
  });

  describe('getMessage', () => {
    it.each([
      ['QUEUED', 'pending'],
      ['DELIVERING', 'pending'],
      ['DELIVERED', 'delivered'],
      ['OK', 'delivered'],
      ['FAIL', 'failed'],
      ['FAILED', 'failed'],
      ['REJECTED', 'unknown'],
      ['', 'unknown'],
    ])('Xoxzo status %p → %s', async (raw, status) => {
      const msgid = await sendOne();
      fake.setStatus(msgid, raw);
      await expect(client().getMessage(msgid)).resolves.toEqual({
        msgid,
        status,
        rawStatus: raw,
        cost: 1,
        sentAt: expect.any(Date),
      });
    });

    it('reads sent_time as UTC', async () => {
      const before = Date.now();
      const msgid = await sendOne();
      const message = await client().getMessage(msgid);
      // sent_time has whole seconds and no zone.
      expect(message?.sentAt?.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(message?.sentAt?.getTime()).toBeLessThanOrEqual(Date.now());
    });

    it('an unknown msgid → null (404)', async () => {
      await expect(client().getMessage('A'.repeat(32))).resolves.toBeNull();
    });

    it('a malformed msgid → null, without a request', async () => {
      const before = fake.requests;
      await expect(client().getMessage('../you/credits')).resolves.toBeNull();
      expect(fake.requests).toBe(before);
    });

    it('another failure rejects with a XoxzoError of the right kind', async () => {
      const msgid = await sendOne();
      fake.failNext('http503');
      await expect(client().getMessage(msgid)).rejects.toMatchObject({ kind: 'provider_error', status: 503 });
    });
  });

  describe('did the request reach Xoxzo? (mayHaveBeenSent: no idempotency key, so only "certainly not" may be retried)', () => {
    it('connection refused → transport, certainly not sent; nothing reached the fake', async () => {
      const http = axios.create();
      fake.refuseNext(http);
      const before = fake.requests;
      const error = await sendError(client({}, http));
      expect(error).toMatchObject({ kind: 'transport', mayHaveBeenSent: false });
      expect(error.message).toContain('ECONNREFUSED');
      expect(fake.requests).toBe(before);
      expect(fake.refused).toBeGreaterThanOrEqual(1);
      // The helper refuses only what it was asked to: the next request goes through.
      await expect(client({}, http).sendFreeform({ recipient: RECIPIENT, message: 'x' })).resolves.toEqual(
        expect.any(String),
      );
    });

    it('nothing listening at XOXZO_API_URL → certainly not sent', async () => {
      const error = await sendError(client({ XOXZO_API_URL: REFUSING_URL }));
      expect(error).toMatchObject({ kind: 'transport', mayHaveBeenSent: false });
    });

    it('a name that does not resolve (DNS) → certainly not sent', async () => {
      const error = await sendError(client({ XOXZO_API_URL: 'http://xoxzo-api.invalid' }));
      expect(error).toMatchObject({ kind: 'transport', mayHaveBeenSent: false });
      expect(error.message).toMatch(/ENOTFOUND|EAI_AGAIN/);
    });

    it('a failed TLS handshake (https to a plain-HTTP port) → certainly not sent, no request handled', async () => {
      const before = fake.requests;
      const error = await sendError(client({ XOXZO_API_URL: fake.url.replace('http://', 'https://') }));
      expect(error).toMatchObject({ kind: 'transport', mayHaveBeenSent: false });
      expect(fake.requests).toBe(before);
    });

    it.each<[FakeFailure, FakeFailureOptions]>([
      ['timeout', {}],
      ['reset', {}],
      ['timeout', { accepted: true }],
      ['reset', { accepted: true }],
    ])('%s %p after the request was written → transport, may have been sent', async (failure, options) => {
      fake.failNext(failure, 1, options);
      const sent = fake.messagesTo(RECIPIENT).length;
      const error = await sendError();
      expect(error).toMatchObject({ kind: 'transport', mayHaveBeenSent: true });
      // With `accepted`, Xoxzo really took it: that is why the client must not retry.
      expect(fake.messagesTo(RECIPIENT)).toHaveLength(sent + (options.accepted ? 1 : 0));
    });

    it.each<[FakeFailure, FakeFailureOptions, string, boolean]>([
      ['http429', {}, 'throttled', false],
      ['http429', { retryAfter: null }, 'throttled', false],
      ['http503', { retryAfter: 2 }, 'provider_error', false],
      ['http503', {}, 'provider_error', true],
      ['http500', {}, 'provider_error', true],
      ['http401', {}, 'credentials', false],
      ['http403', {}, 'no_credit', false],
      ['recipient400', {}, 'recipient_rejected', false],
    ])('%s %p → kind %s, mayHaveBeenSent %p', async (failure, options, kind, mayHaveBeenSent) => {
      fake.failNext(failure, 1, options);
      expect(await sendError()).toMatchObject({ kind, mayHaveBeenSent });
    });

    it('a 503 with Retry-After carries it', async () => {
      fake.failNext('http503', 1, { retryAfter: 2 });
      expect(await sendError()).toMatchObject({ status: 503, retryAfterMs: 2000, mayHaveBeenSent: false });
    });

    it('not configured → rejects without a request, certainly not sent', async () => {
      const config = loadConfig({ SMS_DRIVER: 'console', XOXZO_API_URL: fake.url });
      const before = fake.requests;
      await expect(
        new XoxzoClient(config.sms, new HttpService(axios.create())).sendFreeform({
          recipient: RECIPIENT,
          message: 'x',
        }),
      ).rejects.toMatchObject({ kind: 'credentials', mayHaveBeenSent: false });
      expect(fake.requests).toBe(before);
    });

    describe('a request cut off while it was still being written', () => {
      let silent: Server;
      let port: number;
      const sockets = new Set<Socket>();

      beforeAll(async () => {
        // Accepts connections and never reads: a large body cannot be written in full.
        silent = createTcpServer({ pauseOnConnect: true }, (socket) => {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
        });
        await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
        port = (silent.address() as AddressInfo).port;
      });

      afterAll(async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      });

      async function axiosError(data: string): Promise<unknown> {
        return axios
          .request({
            method: 'POST',
            url: `http://127.0.0.1:${port}/sms/messages/`,
            data,
            timeout: 300,
            maxRedirects: 0,
          })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
      }

      it('timed out before the body was fully written → certainly not sent', async () => {
        expect(mayHaveReachedXoxzo(await axiosError('x'.repeat(64 * 1024 * 1024)))).toBe(false);
      });

      it('timed out after a small body was written → may have been sent (the control)', async () => {
        expect(mayHaveReachedXoxzo(await axiosError('recipient=%2B81&message=hi'))).toBe(true);
      });
    });
  });

  describe('getCredits', () => {
    it('reads GET /you/credits/', async () => {
      fake.credits = 42.5;
      await expect(client().getCredits()).resolves.toBe(42.5);
      expect(fake.calls.at(-1)).toEqual({ method: 'GET', path: '/you/credits/' });
      fake.credits = 1000;
    });

    it('wrong credentials → XoxzoError credentials (401)', async () => {
      const error = await client({ XOXZO_API_AUTH_TOKEN: 'wrong' })
        .getCredits()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(XoxzoError);
      expect(error).toMatchObject({ kind: 'credentials', status: 401 });
    });

    it('without credentials (console driver) → rejects without a request', async () => {
      const config = loadConfig({ SMS_DRIVER: 'console', XOXZO_API_URL: fake.url });
      const before = fake.requests;
      await expect(
        new XoxzoClient(config.sms, new HttpService(axios.create())).getCredits(),
      ).rejects.toMatchObject({
        kind: 'credentials',
      });
      expect(fake.requests).toBe(before);
    });
  });

  it.each([
    ['queued', 'pending'],
    [' Delivered ', 'delivered'],
    ['failed', 'failed'],
    ['SENT', 'unknown'],
  ])('normaliseXoxzoStatus(%p) → %s', (raw, status) => {
    expect(normaliseXoxzoStatus(raw)).toBe(status);
  });

  it.each<[unknown, number | undefined]>([
    ['2', 2000],
    ['0', 0],
    ['1.5', 1500],
    [undefined, undefined],
    ['', undefined],
    ['soon', undefined],
    ['Thu, 01 Jan 1970 00:00:05 GMT', 3000],
  ])('parseRetryAfter(%p) → %p', (header, ms) => {
    expect(parseRetryAfter(header, 2000)).toBe(ms);
  });
});
