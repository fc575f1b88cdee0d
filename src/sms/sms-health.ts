import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { CircuitBreaker, CircuitState } from './circuit-breaker.js';
import { XoxzoClient } from './xoxzo-client.js';

export interface SmsHealthStatus {
  driver: AppConfig['sms']['driver'];
  circuit: CircuitState;
  /** The provider's credit balance as last read; null if never read (or the console driver). */
  credits: number | null;
  /** When `credits` was read (ISO 8601). */
  creditsCheckedAt: string | null;
}

/** How often, at most, the credit balance is asked of the provider. */
export const CREDITS_REFRESH_MS = 60_000;

/**
 * The SMS side of a health or status endpoint: the circuit breaker's state and the Xoxzo credit balance.
 * The balance is read with `GET /you/credits/` at most once per `CREDITS_REFRESH_MS` (concurrent callers
 * share one request); a failed read keeps the last known value. `status()` never rejects.
 */
@Injectable()
export class SmsHealth {
  private readonly logger = new Logger(SmsHealth.name);
  private known: { credits: number; at: number } | undefined;
  private lastTry: number | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly config: AppConfig,
    /** Absent with the console driver. */
    private readonly client: XoxzoClient | null,
    private readonly breaker: CircuitBreaker | null,
    private readonly now: () => number = Date.now,
  ) {}

  async status(): Promise<SmsHealthStatus> {
    const { driver } = this.config.sms;
    if (driver === 'console' || !this.client) {
      return { driver, circuit: 'closed', credits: null, creditsCheckedAt: null };
    }
    await this.refreshCredits(this.client);
    return {
      driver,
      circuit: this.breaker?.state ?? 'closed',
      credits: this.known?.credits ?? null,
      creditsCheckedAt: this.known ? new Date(this.known.at).toISOString() : null,
    };
  }

  private async refreshCredits(client: XoxzoClient): Promise<void> {
    const now = this.now();
    if (!this.inFlight && (this.lastTry === undefined || now - this.lastTry >= CREDITS_REFRESH_MS)) {
      this.lastTry = now;
      this.inFlight = client
        .getCredits()
        .then(
          (credits) => void (this.known = { credits, at: this.now() }),
          (error: unknown) =>
            this.logger.warn(
              `Could not read the Xoxzo credit balance: ${error instanceof Error ? error.message : String(error)}`,
            ),
        )
        .finally(() => (this.inFlight = undefined));
    }
    await this.inFlight;
  }
}
