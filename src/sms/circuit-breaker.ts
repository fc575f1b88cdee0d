export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  threshold: number;
  /** How long it stays open before one trial call is let through. */
  cooldownMs: number;
}

/**
 * A consecutive-failure circuit breaker. Closed: calls go through; `threshold` failures in a row open it.
 * Open: `tryAcquire()` refuses every call for `cooldownMs`. Then half-open: exactly one trial call is let
 * through; its success closes the circuit, its failure re-opens it for another cooldown. The clock is
 * injected so tests need no real waiting. Not tied to SMS: it counts whatever its owner reports.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;

  constructor(
    private readonly options: CircuitBreakerOptions,
    private readonly now: () => number = Date.now,
    /** Called on every state change (for logs). */
    private readonly onChange: (state: CircuitState, previous: CircuitState) => void = () => undefined,
  ) {}

  get state(): CircuitState {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.options.cooldownMs ? 'half_open' : 'open';
  }

  /** When an open circuit lets the next trial through (ms since epoch, per the clock); undefined if not open. */
  get retryAt(): number | undefined {
    return this.openedAt === undefined ? undefined : this.openedAt + this.options.cooldownMs;
  }

  /**
   * May a call go ahead? Closed: yes. Open: no. Half-open: yes for the first caller (the trial), no for
   * the others until the trial has been reported with `success()` or `failure()`.
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    const previous = this.state;
    this.failures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
    if (previous !== 'closed') this.onChange('closed', previous);
  }

  failure(): void {
    const previous = this.state;
    this.failures += 1;
    this.trialInFlight = false;
    if (previous === 'half_open' || (previous === 'closed' && this.failures >= this.options.threshold)) {
      this.openedAt = this.now();
      this.onChange('open', previous);
    }
  }
}
