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
    const http = axios.create();
    const sender = new ResilientSmsSender(
      new XoxzoSmsSender(config.sms, new XoxzoClient(config.sms, new HttpService(http))),
      breaker,
      { ...DEFAULT_RETRY_POLICY, deadlineMs: config.sms.deadlineMs },
    );
    /** The next `times` connections to the fake are refused (ECONNREFUSED: certainly not sent). */
    const refuseNext = (times: number) => fake.refuseNext(http, times);
    return { sender, breaker, refuseNext };
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

  describe('no retry when the SMS may have gone out (timeout or 5xx after the request reached Xoxzo)', () => {
    it.each<[FakeFailure, FakeFailureOptions]>([
      ['http500', {}],
      ['http503', {}],
      ['timeout', {}],
      ['reset', {}],
    ])('%s %p → one request, uncertain (mayHaveBeenSent)', async (failing, options) => {
      fake.failNext(failing, 5, options);
      const before = fake.requests;
      const error = await failure(setup().sender.send(SMS));
      expect(error).toMatchObject({ reason: 'unavailable', mayHaveBeenSent: true });
      expect(fake.requests).toBe(before + 1);
    });

    it.each<FakeFailure>(['http500', 'http503', 'timeout', 'reset'])(
      '%s after Xoxzo took the message → exactly one SMS, however many attempts the deadline allows',
      async (failing) => {
        fake.failNext(failing, 5, { accepted: true });
        const before = { requests: fake.requests, sent: fake.messagesTo(RECIPIENT).length };
        const error = await failure(setup({ SMS_DEADLINE_MS: '3000' }).sender.send(SMS));
        expect(error.mayHaveBeenSent).toBe(true);
        expect(fake.requests).toBe(before.requests + 1);
        expect(fake.messagesTo(RECIPIENT)).toHaveLength(before.sent + 1);
      },
    );
  });

  describe('retries what certainly was not sent, until the provider recovers', () => {
    it('connection refused twice, then success → three attempts, the SMS sent once', async () => {
      const { sender, refuseNext } = setup();
      refuseNext(2);
      const before = {
        requests: fake.requests,
        refused: fake.refused,
        sent: fake.messagesTo(RECIPIENT).length,
      };
      const sent = await sender.send(SMS);
      expect(sent.messageId).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(fake.refused).toBe(before.refused + 2);
      expect(fake.requests).toBe(before.requests + 1);
      expect(fake.messagesTo(RECIPIENT)).toHaveLength(before.sent + 1);
    });

    it.each<[FakeFailure, FakeFailureOptions]>([
      ['http503', { retryAfter: 0 }],
      ['http429', { retryAfter: 0 }],
      ['http429', { retryAfter: null }],
    ])('%s %p twice, then success → three requests, the SMS sent once', async (failing, options) => {
      fake.failNext(failing, 2, options);
      const before = { requests: fake.requests, sent: fake.messagesTo(RECIPIENT).length };
      await expect(setup().sender.send(SMS)).resolves.toMatchObject({ messageId: expect.any(String) });
      expect(fake.requests).toBe(before.requests + 3);
      expect(fake.messagesTo(RECIPIENT)).toHaveLength(before.sent + 1);
    });

    it('retries a template send the same way', async () => {
      fake.templates.set('ok', { body: 'Your code is {pin}', status: 'APPROVED' });
      fake.failNext('http503', 1, { retryAfter: 0 });
      const sent = await setup({ XOXZO_TEMPLATE_ID: 'ok' }).sender.send({
        ...SMS,
        otp: { code: '4321', minutes: 5 },
      });
      expect(fake.sent.find((s) => s.msgid === sent.messageId)?.templateId).toBe('ok');
    });
  });

  describe('beforeRetry (the caller charges every attempt)', () => {
    it('is awaited before each attempt after the first, never before the first', async () => {
      const { sender, refuseNext } = setup();
      const events: string[] = [];
      refuseNext(2);
      const refusedBefore = fake.refused;
      await sender.send(SMS, {
        beforeRetry: () => {
          events.push(`charge after ${fake.refused - refusedBefore} refused`);
          return Promise.resolve();
        },
      });
      expect(events).toEqual(['charge after 1 refused', 'charge after 2 refused']);
    });

    it.each<[string, () => void]>([
      ['a success', () => undefined],
      ['an uncertain failure (500)', () => fake.failNext('http500')],
      ['a refusal (401)', () => fake.failNext('http401')],
    ])('is not called after %s', async (_, arrange) => {
      arrange();
      let calls = 0;
      await setup()
        .sender.send(SMS, { beforeRetry: () => Promise.resolve(void (calls += 1)) })
        .catch(() => undefined);
      expect(calls).toBe(0);
    });

    it('rejecting stops the retries: the send fails with the last error, certainly not sent', async () => {
      const { sender, breaker, refuseNext } = setup({ SMS_BREAKER_THRESHOLD: '1' });
      refuseNext(5);
      const refusedBefore = fake.refused;
      let calls = 0;
      const error = await failure(
        sender.send(SMS, {
          beforeRetry: () => {
            calls += 1;
            return calls < 2 ? Promise.resolve() : Promise.reject(new Error('SMS budget spent'));
          },
        }),
      );
      expect(error).toMatchObject({ kind: 'transport', mayHaveBeenSent: false });
      expect(error.message).toMatch(/gave up after 2 attempt/);
      expect(calls).toBe(2);
      expect(fake.refused - refusedBefore).toBe(2);
      // The provider did fail: that still counts against the breaker.
      expect(breaker.state).toBe('open');
      fake.recover();
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

    it('of a 503 is waited out too', async () => {
      fake.failNext('http503', 1, { retryAfter: 1 });
      const before = fake.requests;
      const [sent, elapsed] = await timed(() => setup({ SMS_DEADLINE_MS: '2000' }).sender.send(SMS));
      expect(sent.messageId).toEqual(expect.any(String));
      expect(elapsed).toBeGreaterThanOrEqual(1000);
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
    it('stops retrying a provider that always refuses connections: certainly not sent', async () => {
      const { sender, refuseNext } = setup({ SMS_DEADLINE_MS: '1000' });
      refuseNext(10_000);
      const before = fake.refused;
      const [error, elapsed] = await timed(() => failure(sender.send(SMS)));
      expect(error).toMatchObject({ kind: 'transport', reason: 'unavailable', mayHaveBeenSent: false });
      expect(elapsed).toBeLessThan(1000 + MARGIN_MS);
      expect(fake.refused - before).toBeGreaterThanOrEqual(2);
    });

    it('asks a provider that always times out once: the outcome is uncertain', async () => {
      fake.failAlways('timeout');
      const before = fake.requests;
      const [error, elapsed] = await timed(() =>
        failure(setup({ SMS_DEADLINE_MS: '1000' }).sender.send(SMS)),
      );
      expect(error).toMatchObject({ kind: 'transport', reason: 'unavailable', mayHaveBeenSent: true });
      expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      expect(fake.requests).toBe(before + 1);
    });

    it('stops retrying a provider that always answers 503 with Retry-After: 0', async () => {
      fake.failAlways('http503', { retryAfter: 0 });
      const before = fake.requests;
      const [error, elapsed] = await timed(() => failure(setup({ SMS_DEADLINE_MS: '600' }).sender.send(SMS)));
      expect(error).toMatchObject({ kind: 'provider_error', providerStatus: 503, mayHaveBeenSent: false });
      expect(elapsed).toBeLessThan(600 + MARGIN_MS);
      expect(fake.requests - before).toBeGreaterThanOrEqual(2);
    });

    it('cuts an attempt short at the deadline, even if its own timeout is longer', async () => {
      fake.failAlways('slow', { delayMs: 3000 });
      const [error, elapsed] = await timed(() =>
        failure(setup({ SMS_DEADLINE_MS: '600', XOXZO_TIMEOUT_MS: '5000' }).sender.send(SMS)),
      );
      expect(error).toMatchObject({ kind: 'transport', mayHaveBeenSent: true });
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
      fake.failAlways('http429', { retryAfter: null });
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

    it('uncertain failures (timeout, 5xx) count: the provider is failing', async () => {
      const { sender, breaker } = setup(THRESHOLD);
      fake.failNext('timeout');
      fake.failNext('http500');
      expect((await failure(sender.send(SMS))).mayHaveBeenSent).toBe(true);
      expect(breaker.state).toBe('closed');
      expect((await failure(sender.send(SMS))).mayHaveBeenSent).toBe(true);
      expect(breaker.state).toBe('open');
    });

    it('rejected recipients do not open it (the provider is working)', async () => {
      const { sender, breaker } = setup(THRESHOLD);
      fake.failNext('recipient400', 3);
      for (let i = 0; i < 3; i += 1) await failure(sender.send(SMS));
      expect(breaker.state).toBe('closed');
    });

    it('a rejected recipient between two outages does not add to them', async () => {
      const { sender, breaker } = setup(THRESHOLD);
      fake.failNext('http500');
      fake.failNext('recipient400');
      fake.failNext('http500');
      for (let i = 0; i < 3; i += 1) await failure(sender.send(SMS));
      expect(breaker.state).toBe('closed');
    });
  });

  it('wraps any SmsSender: passes an abort signal for the deadline and retries its retryable errors', async () => {
    const seen: (SendOptions | undefined)[] = [];
    class Flaky extends SmsSender {
      send(_sms: OutgoingSms, options?: SendOptions): Promise<SentSms> {
        seen.push(options);
        return seen.length < 3
          ? Promise.reject(SmsDeliveryError.of('transport', 'flaky', undefined, { mayHaveBeenSent: false }))
          : Promise.resolve({ messageId: 'ok' });
      }
    }
    const sender = new ResilientSmsSender(
      new Flaky(),
      new CircuitBreaker({ threshold: 5, cooldownMs: 1000 }),
      { ...DEFAULT_RETRY_POLICY, deadlineMs: 1000 },
      { now: () => performance.now(), random: () => 0 },
    );
    const beforeRetry = () => Promise.resolve();
    await expect(sender.send(SMS, { beforeRetry })).resolves.toEqual({ messageId: 'ok' });
    expect(seen).toHaveLength(3);
    expect(seen.every((o) => o?.signal instanceof AbortSignal)).toBe(true);
    // The wrapped sender makes one attempt per call: the retry hook is not handed down.
    expect(seen.every((o) => o?.beforeRetry === undefined)).toBe(true);
  });

  it('a wrapped sender whose errors say nothing of the outcome is not retried on transport or 5xx', async () => {
    let calls = 0;
    class Opaque extends SmsSender {
      send(): Promise<SentSms> {
        calls += 1;
        return Promise.reject(SmsDeliveryError.of(calls === 1 ? 'transport' : 'provider_error', 'opaque'));
      }
    }
    const sender = new ResilientSmsSender(
      new Opaque(),
      new CircuitBreaker({ threshold: 5, cooldownMs: 1000 }),
      { ...DEFAULT_RETRY_POLICY, deadlineMs: 1000 },
    );
    await expect(sender.send(SMS)).rejects.toMatchObject({ mayHaveBeenSent: true });
    await expect(sender.send(SMS)).rejects.toMatchObject({ mayHaveBeenSent: true });
    expect(calls).toBe(2);
  });
});
