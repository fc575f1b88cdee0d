import { Controller, Get, HttpStatus, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { ApiException, ErrorCode, Public } from '../common/index.js';
import { FraudGuard } from '../phone/fraud-guard.service.js';
import { SmsHealth } from '../sms/sms-health.js';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly sms: SmsHealth,
    private readonly fraudGuard: FraudGuard,
  ) {}

  /**
   * `200` while the database answers (within 1.5 s), `503 SERVICE_UNAVAILABLE` otherwise. The SMS side is
   * reported (driver, circuit state, last known Xoxzo credit balance) but never makes the service unhealthy
   * on its own: an open circuit is `degraded`; so is the fraud guard (how many destinations it has paused).
   */
  @Public()
  @Get()
  @HealthCheck()
  async check(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.db.pingCheck('database', { timeout: 1500 }),
        async () => {
          const status = await this.sms.status();
          const sms = this.indicators.check('sms');
          return status.circuit === 'open' ? sms.degraded({ ...status }) : sms.up({ ...status });
        },
        // Paused destinations are an alarm for the operator, not an outage: reported, never unhealthy.
        async () => {
          const pausedDestinations = await this.fraudGuard.activePauses().catch(() => null);
          return this.indicators.check('fraudGuard').up({ pausedDestinations });
        },
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE, 'Unhealthy', {
        details: (error.getResponse() as { details?: unknown }).details,
      });
    }
  }
}
