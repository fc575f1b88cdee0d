import { HttpModule, HttpService } from '@nestjs/axios';
import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SmsConfig } from './sms.config.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { ConsoleSmsSender } from './console-sms-sender.js';
import { DEFAULT_RETRY_POLICY, ResilientSmsSender } from './resilient-sms-sender.js';
import { DeliveryReportsController } from './delivery-reports.controller.js';
import { DeliveryReportLinks, XOXZO_DELIVERY_REPORTS_PATH } from './delivery-report-links.js';
import { SmsDeliveryService } from './sms-delivery.service.js';
import { SmsHealth } from './sms-health.js';
import { SmsMessage } from './sms-message.entity.js';
import { SmsRetention } from './sms.retention.js';
import { SmsSender } from './sms-sender.js';
import { SmsTestNumbers, TestNumbersSmsSender } from './test-numbers.js';
import { XoxzoClient } from './xoxzo-client.js';
import { XoxzoSmsSender } from './xoxzo-sms-sender.js';

/**
 * The sender chain for the configured driver:
 * `TestNumbersSmsSender` (only when test numbers are configured) → `ResilientSmsSender` (retries, deadline,
 * circuit breaker; Xoxzo only) → `XoxzoSmsSender` (one attempt, template or freeform) → `XoxzoClient` (HTTP).
 * The console driver is `ConsoleSmsSender`, behind the same test-number wrapper.
 */
export function createSmsSender(
  config: SmsConfig,
  client: XoxzoClient,
  breaker: CircuitBreaker,
  testNumbers: SmsTestNumbers,
): SmsSender {
  const logger = new Logger('SmsModule');
  const sms = config;
  let sender: SmsSender;
  if (sms.driver === 'xoxzo') {
    const { byLocale, default: fallback } = sms.xoxzo.templates;
    const locales = Object.keys(byLocale);
    const mode =
      locales.length || fallback
        ? `template (${[...locales, ...(fallback ? ['default'] : [])].join(', ')})`
        : 'freeform';
    logger.log(
      `SMS driver: xoxzo, ${mode}; deadline ${sms.deadlineMs} ms; breaker ${sms.breaker.threshold} failures / ` +
        `${sms.breaker.cooldownSeconds} s; delivery reports ${
          sms.publicBaseUrl
            ? `to ${sms.publicBaseUrl}${XOXZO_DELIVERY_REPORTS_PATH} (signed per message)`
            : 'off (no PUBLIC_BASE_URL)'
        }`,
    );
    sender = new ResilientSmsSender(new XoxzoSmsSender(config, client), breaker, {
      ...DEFAULT_RETRY_POLICY,
      deadlineMs: sms.deadlineMs,
    });
  } else {
    logger.log('SMS driver: console (SMS are written to the log, not sent)');
    sender = new ConsoleSmsSender();
  }
  if (testNumbers.size === 0) return sender;
  logger.warn(`${testNumbers.size} SMS test number(s) active: fixed PINs, no SMS sent to them`);
  return new TestNumbersSmsSender(sender, testNumbers);
}

export const SMS_ENTITIES = [SmsMessage];

/**
 * Delivers text messages and tracks what became of them. Exports `SmsSender` (the chain above),
 * `SmsTestNumbers` (fixed PINs for test numbers), `SmsDeliveryService` (the `sms_messages` table, fed by
 * Xoxzo's delivery reports at `POST /sms/xoxzo/delivery-reports`, each message's URL signed) and `SmsHealth`
 * (circuit state and credit balance). The Xoxzo client stays inside.
 */
@Module({
  imports: [HttpModule, TypeOrmModule.forFeature(SMS_ENTITIES)],
  controllers: [DeliveryReportsController],
  providers: [
    {
      provide: XoxzoClient,
      inject: [SmsConfig, HttpService],
      useFactory: (config: SmsConfig, http: HttpService) => new XoxzoClient(config, http),
    },
    {
      provide: CircuitBreaker,
      inject: [SmsConfig],
      useFactory: (config: SmsConfig) => {
        const logger = new Logger('SmsCircuit');
        const { threshold, cooldownSeconds } = config.breaker;
        return new CircuitBreaker({ threshold, cooldownMs: cooldownSeconds * 1000 }, Date.now, (state) =>
          state === 'open'
            ? logger.warn(`SMS provider circuit opened: failing fast for ${cooldownSeconds} s`)
            : logger.log('SMS provider circuit closed'),
        );
      },
    },
    {
      provide: SmsTestNumbers,
      inject: [SmsConfig],
      useFactory: (config: SmsConfig) => new SmsTestNumbers(config.testNumbers),
    },
    {
      provide: SmsSender,
      inject: [SmsConfig, XoxzoClient, CircuitBreaker, SmsTestNumbers],
      useFactory: createSmsSender,
    },
    DeliveryReportLinks,
    SmsDeliveryService,
    SmsRetention,
    {
      provide: SmsHealth,
      inject: [SmsConfig, XoxzoClient, CircuitBreaker],
      useFactory: (config: SmsConfig, client: XoxzoClient, breaker: CircuitBreaker) =>
        config.driver === 'xoxzo'
          ? new SmsHealth(config, client, breaker)
          : new SmsHealth(config, null, null),
    },
  ],
  exports: [SmsSender, SmsHealth, SmsTestNumbers, SmsDeliveryService],
})
export class SmsModule {}
