import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import axios from 'axios';
import { FAKE_SID, FAKE_TOKEN, FakeFailure, FakeXoxzo } from '../../test/fakes/fake-xoxzo.server.js';
import { loadConfig } from '../app-config.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { XoxzoClient } from './xoxzo-client.js';
import { DEFAULT_RETRY_POLICY, ResilientSmsSender } from './resilient-sms-sender.js';
import { OutgoingSms, SendOptions, SentSms, SmsDeliveryError, SmsSender } from './sms-sender.js';
import { XoxzoSmsSender } from './xoxzo-sms-sender.js';

const RECIPIENT = '+819033334444';
const SMS: OutgoingSms = { to: RECIPIENT, text: 'hello' };
const TIMEOUT_MS = 250;
/** Timers fire a little late, and the machine may be busy. */
const MARGIN_MS = 400;

describe(ResilientSmsSender.name, () => {
  let fake: FakeXoxzo;
  let clock: number;

  function setup(env: Record<string, string> = {}) {
    const config = loadConfig({
      XOXZO_API_SID: FAKE_SID,
      XOXZO_API_AUTH_TOKEN: FAKE_TOKEN,
      XOXZO_API_URL: fake.url,
      XOXZO_TIMEOUT_MS: String(TIMEOUT_MS),
      SMS_DEADLINE_MS: '1500',
      SMS_BREAKER_THRESHOLD: '1000',
      ...env,
    });
    const { threshold, cooldownSeconds } = config.sms.breaker;
    const breaker = new CircuitBreaker({ threshold, cooldownMs: cooldownSeconds * 1000 }, () => clock);
    const sender = new ResilientSmsSender(
      new XoxzoSmsSender(config.sms, new XoxzoClient(config.sms, new HttpService(axios.create()))),
      breaker,
      { ...DEFAULT_RETRY_POLICY, deadlineMs: config.sms.deadlineMs },
    );
    return { sender, breaker };
  }

  async function failure(promise: Promise<unknown>): Promise<SmsDeliveryError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SmsDeliveryError);
    return error as SmsDeliveryError;
  }

  async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
    const started = performance.now();
    const result = await work();
    return [result, performance.now() - started];
  }

  beforeAll(async () => {
    fake = await new FakeXoxzo().start();
  });

  afterAll(async () => {
    await fake.close();
  });

  beforeEach(() => {
    clock = 1_000_000;
    for (const level of ['error', 'warn', 'log'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
    }
  });

  afterEach(() => {
    fake.recover();
    jest.restoreAllMocks();
  });

  describe('no retry for answers that would not change', () => {
    it.each<[FakeFailure, string, string]>([
      ['recipient400', 'recipient_rejected', 'recipient_rejected'],
      ['http401', 'credentials', 'unavailable'],
      ['http403', 'no_credit', 'unavailable'],
    ])('%s → one request, kind %s, reason %s', async (failing, kind, reason) => {
      fake.failNext(failing, 5);
      const before = fake.requests;
      const error = await failure(setup().sender.send(SMS));
      expect(error).toMatchObject({ kind, reason });
      expect(fake.requests).toBe(before + 1);
    });

    it('a 400 for the message (too long) → one request, rejected_request', async () => {
      const before = fake.requests;
      const error = await failure(setup().sender.send({ to: RECIPIENT, text: 'x'.repeat(661) }));
      expect(error).toMatchObject({ kind: 'rejected_request', reason: 'unavailable', providerStatus: 400 });
      expect(fake.requests).toBe(before + 1);
    });

    it('an unapproved template → one request', async () => {
      fake.templates.set('pending', { body: 'Your code is {pin}', status: 'PENDING' });
      const before = fake.requests;
      const error = await failure(
        setup({ XOXZO_TEMPLATE_ID: 'pending' }).sender.send({ ...SMS, otp: { code: '1234', minutes: 5 } }),
      );
      expect(error.kind).toBe('rejected_request');
      expect(fake.requests).toBe(before + 1);
    });
  });

  describe('retries transient failures until the provider recovers', () => {
    it.each<FakeFailure>(['http500', 'http503', 'reset', 'timeout'])(
      '%s twice, then success → three requests, the SMS sent once',
      async (failing) => {
        fake.failNext(failing, 2);
        const before = { requests: fake.requests, sent: fake.messagesTo(RECIPIENT).length };
        const sent = await setup().sender.send(SMS);
        expect(sent.messageId).toMatch(/^[A-Za-z0-9]{32}$/);
        expect(fake.requests).toBe(before.requests + 3);
        expect(fake.messagesTo(RECIPIENT)).toHaveLength(before.sent + 1);
      },
    );

    it('429 without Retry-After → backoff and retry', async () => {
      fake.failNext('http429', 2, { retryAfter: null });
      const before = fake.requests;
      await expect(setup().sender.send(SMS)).resolves.toMatchObject({ messageId: expect.any(String) });
      expect(fake.requests).toBe(before + 3);
    });

    it('retries a template send the same way', async () => {
      fake.templates.set('ok', { body: 'Your code is {pin}', status: 'APPROVED' });
      fake.failNext('http503');
      const sent = await setup({ XOXZO_TEMPLATE_ID: 'ok' }).sender.send({
        ...SMS,
        otp: { code: '4321', minutes: 5 },
      });
      expect(fake.sent.find((s) => s.msgid === sent.messageId)?.templateId).toBe('ok');
    });
  });

  describe('Retry-After', () => {
    it('is waited out when it fits in the deadline', async () => {
      fake.failNext('http429', 1, { retryAfter: 1 });
      const before = fake.requests;
      const [sent, elapsed] = await timed(() => setup({ SMS_DEADLINE_MS: '2000' }).sender.send(SMS));
      expect(sent.messageId).toEqual(expect.any(String));
      expect(elapsed).toBeGreaterThanOrEqual(1000);
      expect(elapsed).toBeLessThan(2000);
      expect(fake.requests).toBe(before + 2);
    });

    it('that does not fit → fails at once, without a second request', async () => {
      fake.failNext('http429', 1, { retryAfter: 5 });
      const before = fake.requests;
      const [error, elapsed] = await timed(() =>
        failure(setup({ SMS_DEADLINE_MS: '1500' }).sender.send(SMS)),
      );
      expect(error).toMatchObject({ kind: 'throttled', reason: 'unavailable', providerStatus: 429 });
      expect(error.retryAfterMs).toBe(5000);
      expect(elapsed).toBeLessThan(300);
      expect(fake.requests).toBe(before + 1);
    });
  });

  describe('the overall deadline', () => {
    it('stops retrying a provider that always times out', async () => {
      fake.failAlways('timeout');
      const before = fake.requests;
      const [error, elapsed] = await timed(() =>
        failure(setup({ SMS_DEADLINE_MS: '1000' }).sender.send(SMS)),
      );
      expect(error).toMatchObject({ kind: 'transport', reason: 'unavailable' });
      expect(elapsed).toBeLessThan(1000 + MARGIN_MS);
      expect(fake.requests - before).toBeGreaterThanOrEqual(2);
    });

    it('stops retrying a provider that always answers 503', async () => {
      fake.failAlways('http503');
      const before = fake.requests;
      const [error, elapsed] = await timed(() => failure(setup({ SMS_DEADLINE_MS: '600' }).sender.send(SMS)));
      expect(error).toMatchObject({ kind: 'provider_error', providerStatus: 503 });
      expect(elapsed).toBeLessThan(600 + MARGIN_MS);
      expect(fake.requests - before).toBeGreaterThanOrEqual(2);
    });

    it('cuts an attempt short at the deadline, even if its own timeout is longer', async () => {
      fake.failAlways('slow', { delayMs: 3000 });
      const [error, elapsed] = await timed(() =>
        failure(setup({ SMS_DEADLINE_MS: '600', XOXZO_TIMEOUT_MS: '5000' }).sender.send(SMS)),
      );
      expect(error.kind).toBe('transport');
      expect(elapsed).toBeLessThan(600 + MARGIN_MS);
    });

    it('a slow but timely answer is a success', async () => {
      fake.failNext('slow', 1, { delayMs: 100 });
      await expect(setup().sender.send(SMS)).resolves.toMatchObject({ messageId: expect.any(String) });
    });
  });

  describe('circuit breaker', () => {
    const THRESHOLD = { SMS_BREAKER_THRESHOLD: '2', SMS_BREAKER_COOLDOWN_SECONDS: '30' };

    it('opens after the threshold of failed sends: then no HTTP call, circuit_open, reason unavailable', async () => {
      const { sender, breaker } = setup(THRESHOLD);
      fake.failAlways('http401');
      await failure(sender.send(SMS));
      expect(breaker.state).toBe('closed');
      await failure(sender.send(SMS));
      expect(breaker.state).toBe('open');

      fake.recover();
      const before = fake.requests;
      const error = await failure(sender.send(SMS));
      expect(error).toMatchObject({ kind: 'circuit_open', reason: 'unavailable' });
      expect(fake.requests).toBe(before);
    });

    it('one send with all its retries counts once', async () => {
      const { sender, breaker } = setup({ ...THRESHOLD, SMS_DEADLINE_MS: '600' });
      fake.failAlways('http503');
      const before = fake.requests;
      await failure(sender.send(SMS));
      expect(fake.requests - before).toBeGreaterThanOrEqual(2);
      expect(breaker.state).toBe('closed');
    });

    it('half-opens after the cooldown; a successful trial closes it', async () => {
      const { sender, breaker } = setup(THRESHOLD);
      fake.failAlways('http403');
      await failure(sender.send(SMS));
      await failure(sender.send(SMS));
      fake.recover();
      clock += 29_999;
      await expect(sender.send(SMS)).rejects.toMatchObject({ kind: 'circuit_open' });
      clock += 1;
      expect(breaker.state).toBe('half_open');
      const before = fake.requests;
      await expect(sender.send(SMS)).resolves.toMatchObject({ messageId: expect.any(String) });
      expect(fake.requests).toBe(before + 1);
      expect(breaker.state).toBe('closed');
      await expect(sender.send(SMS)).resolves.toMatchObject({ messageId: expect.any(String) });
    });

    it('a failed trial re-opens it: the next send fails fast again', async () => {
      const { sender, breaker } = setup(THRESHOLD);
      fake.failAlways('http401');
      await failure(sender.send(SMS));
      await failure(sender.send(SMS));
      clock += 30_000;
      const before = fake.requests;
      await expect(sender.send(SMS)).rejects.toMatchObject({ kind: 'credentials' });
      expect(fake.requests).toBe(before + 1);
      expect(breaker.state).toBe('open');
      await expect(sender.send(SMS)).rejects.toMatchObject({ kind: 'circuit_open' });
      expect(fake.requests).toBe(before + 1);
    });

    it('half-open lets a single trial through: concurrent sends fail fast meanwhile', async () => {
      const { sender } = setup(THRESHOLD);
      fake.failAlways('http401');
      await failure(sender.send(SMS));
      await failure(sender.send(SMS));
      fake.recover();
      clock += 30_000;
      fake.failNext('slow', 1, { delayMs: 150 });
      const before = fake.requests;
      const trial = sender.send(SMS);
      await expect(sender.send(SMS)).rejects.toMatchObject({ kind: 'circuit_open' });
      await expect(trial).resolves.toMatchObject({ messageId: expect.any(String) });
      expect(fake.requests).toBe(before + 1);
    });

    it('rejected recipients do not open it (the provider is working)', async () => {
      const { sender, breaker } = setup(THRESHOLD);
      fake.failNext('recipient400', 3);
      for (let i = 0; i < 3; i += 1) await failure(sender.send(SMS));
      expect(breaker.state).toBe('closed');
    });
  });

  it('wraps any SmsSender: passes an abort signal for the deadline and retries its transient errors', async () => {
    const seen: (AbortSignal | undefined)[] = [];
    class Flaky extends SmsSender {
      send(_sms: OutgoingSms, options?: SendOptions): Promise<SentSms> {
        seen.push(options?.signal);
        return seen.length < 3
          ? Promise.reject(SmsDeliveryError.of('transport', 'flaky'))
          : Promise.resolve({ messageId: 'ok' });
      }
    }
    const sender = new ResilientSmsSender(
      new Flaky(),
      new CircuitBreaker({ threshold: 5, cooldownMs: 1000 }),
      { ...DEFAULT_RETRY_POLICY, deadlineMs: 1000 },
      { now: () => performance.now(), random: () => 0 },
    );
    await expect(sender.send(SMS)).resolves.toEqual({ messageId: 'ok' });
    expect(seen).toHaveLength(3);
    expect(seen.every((s) => s instanceof AbortSignal)).toBe(true);
  });
});
