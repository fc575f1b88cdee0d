import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import axios from 'axios';
import { FAKE_SID, FAKE_TOKEN, FakeXoxzo } from '../../test/fakes/fake-xoxzo.server.js';
import { loadConfig } from '../app-config.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { SmsHealth } from './sms-health.js';
import { XoxzoClient } from './xoxzo-client.js';

describe(SmsHealth.name, () => {
  let fake: FakeXoxzo;
  let clock: number;

  function health() {
    const config = loadConfig({
      XOXZO_API_SID: FAKE_SID,
      XOXZO_API_AUTH_TOKEN: FAKE_TOKEN,
      XOXZO_API_URL: fake.url,
      XOXZO_TIMEOUT_MS: '200',
    });
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 30_000 }, () => clock);
    const client = new XoxzoClient(config.sms, new HttpService(axios.create()));
    return { health: new SmsHealth(config.sms, client, breaker, () => clock), breaker };
  }

  const creditReads = () => fake.calls.filter((c) => c.path === '/you/credits/').length;

  beforeAll(async () => {
    fake = await new FakeXoxzo().start();
  });

  afterAll(async () => {
    await fake.close();
  });

  beforeEach(() => {
    clock = Date.UTC(2030, 0, 1);
    fake.credits = 1000;
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    fake.recover();
    jest.restoreAllMocks();
  });

  it('the first call answers at once with credits null and starts the read; a later call shows the balance', async () => {
    const { health: h } = health();
    const before = creditReads();
    await expect(h.status()).resolves.toEqual({
      driver: 'xoxzo',
      circuit: 'closed',
      credits: null,
      creditsCheckedAt: null,
    });
    await h.settled();
    expect(creditReads()).toBe(before + 1);
    await expect(h.status()).resolves.toEqual({
      driver: 'xoxzo',
      circuit: 'closed',
      credits: 1000,
      creditsCheckedAt: '2030-01-01T00:00:00.000Z',
    });
    await h.settled();
    expect(creditReads()).toBe(before + 1);
  });

  it('reads the credits at most once a minute, answering from the cache meanwhile', async () => {
    const { health: h } = health();
    const before = creditReads();
    await h.status();
    await h.settled();
    fake.credits = 900;
    clock += 59_999;
    await expect(h.status()).resolves.toMatchObject({ credits: 1000 });
    await h.settled();
    expect(creditReads()).toBe(before + 1);
    clock += 1;
    // A minute old: answered from the cache at once, a new read starts in the background.
    await expect(h.status()).resolves.toMatchObject({
      credits: 1000,
      creditsCheckedAt: '2030-01-01T00:00:00.000Z',
    });
    await h.settled();
    expect(creditReads()).toBe(before + 2);
    await expect(h.status()).resolves.toMatchObject({
      credits: 900,
      creditsCheckedAt: '2030-01-01T00:01:00.000Z',
    });
    await h.settled();
    expect(creditReads()).toBe(before + 2);
  });

  it('concurrent calls share one request', async () => {
    const { health: h } = health();
    const before = creditReads();
    await Promise.all([h.status(), h.status(), h.status()]);
    await h.settled();
    expect(creditReads()).toBe(before + 1);
  });

  it('never throws: a failed read keeps the last known value (and is not retried within the minute)', async () => {
    const { health: h } = health();
    await h.status();
    await h.settled();
    clock += 60_000;
    fake.failAlways('reset');
    const before = creditReads();
    await expect(h.status()).resolves.toMatchObject({ credits: 1000 });
    await h.settled();
    await expect(h.status()).resolves.toMatchObject({
      credits: 1000,
      creditsCheckedAt: '2030-01-01T00:00:00.000Z',
    });
    await h.settled();
    expect(creditReads()).toBe(before + 1);
  });

  it('never read successfully → credits null', async () => {
    fake.failAlways('http500');
    const { health: h } = health();
    await h.status();
    await h.settled();
    await expect(h.status()).resolves.toMatchObject({ credits: null, creditsCheckedAt: null });
  });

  it('shows the circuit state', async () => {
    const { health: h, breaker } = health();
    breaker.failure();
    await expect(h.status()).resolves.toMatchObject({ circuit: 'open' });
    clock += 30_000;
    await expect(h.status()).resolves.toMatchObject({ circuit: 'half_open' });
  });

  it('console driver: circuit closed, credits null, no request', async () => {
    const before = fake.requests;
    const h = new SmsHealth(loadConfig({ SMS_DRIVER: 'console' }).sms, null, null);
    await expect(h.status()).resolves.toEqual({
      driver: 'console',
      circuit: 'closed',
      credits: null,
      creditsCheckedAt: null,
    });
    expect(fake.requests).toBe(before);
  });

  describe('with a stub client', () => {
    /** `promise`'s value, failing the test unless it settles before the next turn of the event loop. */
    async function immediately<T>(promise: Promise<T>): Promise<T> {
      const pending = Symbol('pending');
      const first = await Promise.race([promise, new Promise((r) => setImmediate(() => r(pending)))]);
      expect(first).not.toBe(pending);
      return first as T;
    }

    function stubbed(getCredits: () => Promise<number>) {
      const config = loadConfig({ XOXZO_API_SID: FAKE_SID, XOXZO_API_AUTH_TOKEN: FAKE_TOKEN });
      const client = { getCredits: jest.fn(getCredits) };
      const h = new SmsHealth(config.sms, client as unknown as XoxzoClient, null, () => clock);
      return { h, getCredits: client.getCredits };
    }

    it('a provider that never answers does not hold status() up, and gets one request at a time', async () => {
      const { h, getCredits } = stubbed(() => new Promise<number>(() => undefined));
      for (let minute = 0; minute < 5; minute++) {
        await expect(immediately(h.status())).resolves.toMatchObject({
          credits: null,
          creditsCheckedAt: null,
        });
        clock += 60_000;
      }
      expect(getCredits).toHaveBeenCalledTimes(1);
    });

    it('the balance shows on a later call once the read has finished', async () => {
      let answer: (credits: number) => void = () => undefined;
      const { h, getCredits } = stubbed(() => new Promise<number>((resolve) => (answer = resolve)));
      await expect(immediately(h.status())).resolves.toMatchObject({ credits: null });
      clock += 5_000;
      await expect(immediately(h.status())).resolves.toMatchObject({ credits: null });
      answer(77);
      await h.settled();
      await expect(immediately(h.status())).resolves.toMatchObject({
        credits: 77,
        creditsCheckedAt: '2030-01-01T00:00:05.000Z',
      });
      expect(getCredits).toHaveBeenCalledTimes(1);
    });

    it('at most one attempt per minute, even when each one fails at once', async () => {
      const { h, getCredits } = stubbed(() => Promise.reject(new Error('down')));
      for (let second = 0; second < 60; second++) {
        await immediately(h.status());
        await h.settled();
        clock += 1_000;
      }
      expect(getCredits).toHaveBeenCalledTimes(1);
      await immediately(h.status());
      expect(getCredits).toHaveBeenCalledTimes(2);
    });

    it.each([
      ['rejects', () => Promise.reject(new Error('down'))],
      [
        'throws',
        () => {
          throw new Error('boom');
        },
      ],
    ])(
      'a client that %s: status() resolves, the failure is logged, no unhandled rejection',
      async (_label, fail) => {
        const unhandled: unknown[] = [];
        const onUnhandled = (reason: unknown) => void unhandled.push(reason);
        process.on('unhandledRejection', onUnhandled);
        try {
          const { h } = stubbed(fail);
          await expect(immediately(h.status())).resolves.toMatchObject({ credits: null });
          await h.settled();
          await new Promise((r) => setImmediate(r));
          expect(unhandled).toEqual([]);
          expect(Logger.prototype.warn).toHaveBeenCalledWith(expect.stringContaining('credit balance'));
        } finally {
          process.off('unhandledRejection', onUnhandled);
        }
      },
    );
  });
});
