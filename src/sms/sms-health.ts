import { Injectable, Logger } from '@nestjs/common';
import { SmsConfig } from './sms.config.js';
import { CircuitBreaker, CircuitState } from './circuit-breaker.js';
import { XoxzoClient } from './xoxzo-client.js';

export interface SmsHealthStatus {
  driver: SmsConfig['driver'];
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
 *
 * `status()` never waits for the provider: it answers at once from the last known balance and, when that is
 * older than `CREDITS_REFRESH_MS` (or was never read), starts one `GET /you/credits/` in the background. So
 * the first call shows `credits: null`, and a later one the balance. At most one read is in flight and at
 * most one is started per `CREDITS_REFRESH_MS` (a failed read is not retried sooner); a failed read keeps the
 * last known value. `status()` never rejects, and a failed read never becomes an unhandled rejection.
 */
@Injectable()
export class SmsHealth {
  private readonly logger = new Logger(SmsHealth.name);
  private known: { credits: number; at: number } | undefined;
  private lastTry: number | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly config: SmsConfig,
    /** Absent with the console driver. */
    private readonly client: XoxzoClient | null,
    private readonly breaker: CircuitBreaker | null,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves at once (never rejects), whatever the provider does. */
  status(): Promise<SmsHealthStatus> {
    const { driver } = this.config;
    if (driver === 'console' || !this.client) {
      return Promise.resolve({ driver, circuit: 'closed', credits: null, creditsCheckedAt: null });
    }
    this.refreshCreditsInBackground(this.client);
    return Promise.resolve({
      driver,
      circuit: this.breaker?.state ?? 'closed',
      credits: this.known?.credits ?? null,
      creditsCheckedAt: this.known ? new Date(this.known.at).toISOString() : null,
    });
  }

  /** Resolves once no credit read is in flight (for tests and an orderly shutdown); never rejects. */
  settled(): Promise<void> {
    return this.inFlight ?? Promise.resolve();
  }

  private refreshCreditsInBackground(client: XoxzoClient): void {
    const now = this.now();
    if (this.inFlight || (this.lastTry !== undefined && now - this.lastTry < CREDITS_REFRESH_MS)) return;
    this.lastTry = now;
    // `new Promise` also turns a synchronous throw of `getCredits` into a logged failure.
    this.inFlight = new Promise<number>((resolve) => resolve(client.getCredits()))
      .then(
        (credits) => void (this.known = { credits, at: this.now() }),
        (error: unknown) =>
          this.logger.warn(
            `Could not read the Xoxzo credit balance: ${error instanceof Error ? error.message : String(error)}`,
          ),
      )
      .catch(() => undefined)
      .finally(() => (this.inFlight = undefined));
  }
}
