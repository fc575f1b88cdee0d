import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Global, Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getRepositoryToken } from '@nestjs/typeorm';
import { configModule, loadConfig } from '../app-config.js';
import { RateLimiter } from '../rate-limit/rate-limiter.service.js';
import { ConsoleSmsSender } from './console-sms-sender.js';
import { ResilientSmsSender } from './resilient-sms-sender.js';
import { SmsHealth } from './sms-health.js';
import { SmsMessage } from './sms-message.entity.js';
import { SmsSender } from './sms-sender.js';
import { SmsModule } from './sms.module.js';
import { SmsTestNumbers, TestNumbersSmsSender } from './test-numbers.js';
import { XoxzoClient } from './xoxzo-client.js';

const XOXZO = { XOXZO_API_SID: 'ACsid', XOXZO_API_AUTH_TOKEN: 'token', XOXZO_API_URL: 'http://127.0.0.1:9' };

/** The global RateLimitModule's part the delivery-report endpoint uses, unused here. */
@Global()
@Module({ providers: [{ provide: RateLimiter, useValue: {} }], exports: [RateLimiter] })
class NoRateLimits {}

describe(SmsModule.name, () => {
  async function moduleFor(env: Record<string, string>) {
    // The module's delivery table is not used here: no database in a unit test.
    return Test.createTestingModule({
      imports: [configModule(loadConfig(env)), NoRateLimits, SmsModule],
    })
      .overrideProvider(getRepositoryToken(SmsMessage))
      .useValue({})
      .compile();
  }

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('console driver → ConsoleSmsSender; health without a provider call', async () => {
    const module = await moduleFor({ SMS_DRIVER: 'console' });
    expect(module.get(SmsSender)).toBeInstanceOf(ConsoleSmsSender);
    await expect(module.get(SmsHealth).status()).resolves.toEqual({
      driver: 'console',
      circuit: 'closed',
      credits: null,
      creditsCheckedAt: null,
    });
    expect(module.get(SmsTestNumbers).size).toBe(0);
    expect(module.get(XoxzoClient)).toBeInstanceOf(XoxzoClient);
  });

  it('xoxzo driver → the resilient Xoxzo sender', async () => {
    const module = await moduleFor(XOXZO);
    expect(module.get(SmsSender)).toBeInstanceOf(ResilientSmsSender);
  });

  it.each([{ SMS_DRIVER: 'console' }, XOXZO])('test numbers wrap either driver (%p)', async (env) => {
    const module = await moduleFor({ ...env, SMS_TEST_NUMBERS: '+12015550123:123456' });
    expect(module.get(SmsSender)).toBeInstanceOf(TestNumbersSmsSender);
    expect(module.get(SmsTestNumbers).fixedPin('+12015550123')).toBe('123456');
  });
});
