import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import axios from 'axios';
import { FAKE_SID, FAKE_TOKEN, FakeXoxzo } from '../../test/fakes/fake-xoxzo.server.js';
import { loadConfig } from '../config/app-config.js';
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
    const client = new XoxzoClient(config, new HttpService(axios.create()));
    return { health: new SmsHealth(config, client, breaker, () => clock), breaker };
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

  it('reports the driver, the circuit and the credit balance with when it was read', async () => {
    await expect(health().health.status()).resolves.toEqual({
      driver: 'xoxzo',
      circuit: 'closed',
      credits: 1000,
      creditsCheckedAt: '2030-01-01T00:00:00.000Z',
    });
  });

  it('reads the credits at most once a minute (two calls within a minute → one GET)', async () => {
    const { health: h } = health();
    const before = creditReads();
    await h.status();
    fake.credits = 900;
    clock += 59_999;
    await expect(h.status()).resolves.toMatchObject({ credits: 1000 });
    expect(creditReads()).toBe(before + 1);
    clock += 1;
    await expect(h.status()).resolves.toMatchObject({
      credits: 900,
      creditsCheckedAt: '2030-01-01T00:01:00.000Z',
    });
    expect(creditReads()).toBe(before + 2);
  });

  it('concurrent calls share one request', async () => {
    const { health: h } = health();
    const before = creditReads();
    await Promise.all([h.status(), h.status(), h.status()]);
    expect(creditReads()).toBe(before + 1);
  });

  it('never throws: a failed read keeps the last known value (and is not retried within the minute)', async () => {
    const { health: h } = health();
    await h.status();
    clock += 60_000;
    fake.failAlways('reset');
    const before = creditReads();
    await expect(h.status()).resolves.toMatchObject({
      credits: 1000,
      creditsCheckedAt: '2030-01-01T00:00:00.000Z',
    });
    await h.status();
    expect(creditReads()).toBe(before + 1);
  });

  it('never read successfully → credits null', async () => {
    fake.failAlways('http500');
    await expect(health().health.status()).resolves.toMatchObject({ credits: null, creditsCheckedAt: null });
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
    const h = new SmsHealth(loadConfig({ SMS_DRIVER: 'console' }), null, null);
    await expect(h.status()).resolves.toEqual({
      driver: 'console',
      circuit: 'closed',
      credits: null,
      creditsCheckedAt: null,
    });
    expect(fake.requests).toBe(before);
  });
});
