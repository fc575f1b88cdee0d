import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import axios from 'axios';
import { FAKE_SID, FAKE_TOKEN, FakeXoxzo } from '../../test/fakes/fake-xoxzo.server.js';
import { loadConfig } from '../app-config.js';
import { normaliseXoxzoStatus, parseRetryAfter, XoxzoClient, XoxzoError } from './xoxzo-client.js';

const RECIPIENT = '+819055556666';

describe(XoxzoClient.name, () => {
  let fake: FakeXoxzo;

  function client(env: Record<string, string> = {}): XoxzoClient {
    const config = loadConfig({
      XOXZO_API_SID: FAKE_SID,
      XOXZO_API_AUTH_TOKEN: FAKE_TOKEN,
      XOXZO_API_URL: fake.url,
      XOXZO_TIMEOUT_MS: '300',
      ...env,
    });
    return new XoxzoClient(config.sms, new HttpService(axios.create()));
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
