import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import axios from 'axios';
import { FAKE_SID, FAKE_TOKEN, FakeXoxzo } from '../../test/fakes/fake-xoxzo.server.js';
import { loadConfig } from '../app-config.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { createSmsSender } from './sms.module.js';
import { SmsTestNumbers, TestNumbersSmsSender } from './test-numbers.js';
import { XoxzoClient } from './xoxzo-client.js';

const TEST_NUMBER = '+12015550123';
const REAL_NUMBER = '+819077778888';

describe(TestNumbersSmsSender.name, () => {
  let fake: FakeXoxzo;
  let warned: string[];

  function build(env: Record<string, string>) {
    const config = loadConfig({
      XOXZO_API_SID: FAKE_SID,
      XOXZO_API_AUTH_TOKEN: FAKE_TOKEN,
      XOXZO_API_URL: fake.url,
      ...env,
    });
    const numbers = new SmsTestNumbers(config.sms.testNumbers);
    const sender = createSmsSender(
      config.sms,
      new XoxzoClient(config.sms, new HttpService(axios.create())),
      new CircuitBreaker({ threshold: 1, cooldownMs: 60_000 }),
      numbers,
    );
    return { sender, numbers };
  }

  beforeAll(async () => {
    fake = await new FakeXoxzo().start();
  });

  afterAll(async () => {
    await fake.close();
  });

  beforeEach(() => {
    warned = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((m: unknown) => void warned.push(String(m)));
  });

  it('an SMS to a test number never reaches the provider, and is "accepted"', async () => {
    const { sender } = build({ SMS_TEST_NUMBERS: `${TEST_NUMBER}:123456,+12015550124:999999` });
    expect(sender).toBeInstanceOf(TestNumbersSmsSender);
    const before = fake.requests;
    const sent = await sender.send({ to: TEST_NUMBER, text: 'Your verification code is 123456.' });
    expect(sent.messageId).toMatch(/^test-[0-9a-f-]{36}$/);
    expect(fake.requests).toBe(before);
    expect(fake.messagesTo(TEST_NUMBER)).toHaveLength(0);
  });

  it('other numbers go through to the provider', async () => {
    const { sender } = build({ SMS_TEST_NUMBERS: `${TEST_NUMBER}:123456` });
    const sent = await sender.send({ to: REAL_NUMBER, text: 'hello' });
    expect(fake.messagesTo(REAL_NUMBER).at(-1)?.msgid).toBe(sent.messageId);
  });

  it('test numbers skip the circuit breaker too: they work while the provider is down', async () => {
    const { sender } = build({ SMS_TEST_NUMBERS: `${TEST_NUMBER}:123456`, SMS_DEADLINE_MS: '500' });
    fake.failAlways('http401');
    await expect(sender.send({ to: REAL_NUMBER, text: 'x' })).rejects.toMatchObject({ kind: 'credentials' });
    await expect(sender.send({ to: REAL_NUMBER, text: 'x' })).rejects.toMatchObject({ kind: 'circuit_open' });
    await expect(sender.send({ to: TEST_NUMBER, text: 'x' })).resolves.toMatchObject({
      messageId: expect.stringMatching(/^test-/),
    });
    fake.recover();
  });

  it('logs at boot, at warn level, how many test numbers are active (not which, nor their PINs)', () => {
    build({ SMS_TEST_NUMBERS: `${TEST_NUMBER}:123456,+12015550124:999999` });
    expect(warned).toEqual([expect.stringContaining('2 SMS test number(s) active')]);
    expect(warned.join()).not.toContain(TEST_NUMBER);
    expect(warned.join()).not.toContain('123456');
  });

  it('no test numbers → no wrapper, no warning', () => {
    const { sender } = build({});
    expect(sender).not.toBeInstanceOf(TestNumbersSmsSender);
    expect(warned).toEqual([]);
  });

  it('production without SMS_TEST_NUMBERS_IN_PRODUCTION → the list is empty, every number is real', () => {
    const { sender, numbers } = build({
      NODE_ENV: 'production',
      JWT_SECRET: 'test-numbers-int-spec-secret-9f8e7d6c5b4a',
      DATABASE_URL: 'postgres://db.internal/auth',
      SMS_ALLOWED_COUNTRIES: '*',
      SMS_TEST_NUMBERS: `${TEST_NUMBER}:123456`,
    });
    expect(numbers.size).toBe(0);
    expect(numbers.fixedPin(TEST_NUMBER)).toBeUndefined();
    expect(sender).not.toBeInstanceOf(TestNumbersSmsSender);
  });

  describe(SmsTestNumbers.name, () => {
    it('fixedPin gives the configured PIN for a test number, undefined otherwise', () => {
      const numbers = new SmsTestNumbers(new Map([[TEST_NUMBER, '123456']]));
      expect(numbers.fixedPin(TEST_NUMBER)).toBe('123456');
      expect(numbers.fixedPin(REAL_NUMBER)).toBeUndefined();
      expect(numbers.has(TEST_NUMBER)).toBe(true);
      expect(numbers.size).toBe(1);
    });
  });
});
