import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { CircuitBreaker } from './circuit-breaker.js';
import { OutgoingSms, SendOptions, SentSms, SmsDeliveryError, SmsSender } from './sms-sender.js';

export interface RetryPolicy {
  /** Overall deadline for one send, every attempt and wait included (`SMS_DEADLINE_MS`). */
  deadlineMs: number;
  /** Backoff before retry n (0-based) is uniform in [0, min(maxDelayMs, baseDelayMs · 2ⁿ)] ("full jitter"). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** No new attempt starts with less than this left before the deadline. */
  minAttemptMs: number;
}

export const DEFAULT_RETRY_POLICY: Omit<RetryPolicy, 'deadlineMs'> = {
  baseDelayMs: 200,
  maxDelayMs: 2000,
  minAttemptMs: 100,
};

export interface ResilienceClock {
  /** Monotonic milliseconds, for the deadline. */
  now: () => number;
  /** [0, 1), for the jitter. */
  random: () => number;
}

/**
 * Wraps any `SmsSender` with retries inside one deadline, and a circuit breaker.
 *
 * - Only failures that are transient and certainly sent nothing (`SmsDeliveryError.retryable`: connection
 *   refused, DNS, TLS, 429, 503 with `Retry-After`) are retried, with exponential backoff and full jitter
 *   until `deadlineMs` is spent: the provider's send API has no idempotency key, so retrying a timeout or a
 *   5xx could deliver the same SMS twice. Those uncertain failures end the send at once, with
 *   `mayHaveBeenSent`; so do refusals (4xx, recipient rejected). Each attempt gets an abort signal that
 *   fires at the deadline, so no attempt outlives it. A `Retry-After` is waited out (at least) if it fits in
 *   what is left; if it does not, the send fails at once.
 * - Before each retry the caller's `beforeRetry` is awaited (to charge the attempt); if it rejects, the send
 *   fails with the last error, which is a definite "not sent" (the hook's error is logged, not rethrown).
 * - A send (all its attempts) that ends in failure, uncertain or not, counts once against the breaker;
 *   `threshold` of them in a row open it, and sends then fail fast with `kind: 'circuit_open'` (no call to
 *   the provider) until the cooldown lets one trial through. A rejected recipient is the provider working:
 *   it counts as a success.
 */
export class ResilientSmsSender extends SmsSender {
  private readonly logger = new Logger(ResilientSmsSender.name);

  constructor(
    private readonly inner: SmsSender,
    private readonly breaker: CircuitBreaker,
    private readonly policy: RetryPolicy,
    private readonly clock: ResilienceClock = { now: () => performance.now(), random: Math.random },
  ) {
    super();
  }

  async send(sms: OutgoingSms, options: SendOptions = {}): Promise<SentSms> {
    if (!this.breaker.tryAcquire()) {
      throw SmsDeliveryError.of('circuit_open', 'SMS provider circuit is open: not calling it');
    }
    try {
      const sent = await this.withRetries(sms, options);
      this.breaker.success();
      return sent;
    } catch (error) {
      if (error instanceof SmsDeliveryError && error.kind === 'recipient_rejected') this.breaker.success();
      else this.breaker.failure();
      throw error;
    }
  }

  private async withRetries(sms: OutgoingSms, options: SendOptions): Promise<SentSms> {
    const { deadlineMs, baseDelayMs, maxDelayMs, minAttemptMs } = this.policy;
    const callerSignal = options.signal;
    const started = this.clock.now();
    const deadline = started + deadlineMs;
    const signal = AbortSignal.any([
      AbortSignal.timeout(deadlineMs),
      ...(callerSignal ? [callerSignal] : []),
    ]);
    // Every attempt before the current one failed without sending (else there would be no retry), so the
    // last error alone says whether the SMS may have gone out.
    for (let attempt = 1; ; attempt += 1) {
      let error: SmsDeliveryError;
      try {
        return await this.inner.send(sms, { signal });
      } catch (thrown) {
        if (!(thrown instanceof SmsDeliveryError)) throw thrown;
        error = thrown;
      }
      if (!error.retryable || callerSignal?.aborted) {
        if (error.mayHaveBeenSent) {
          this.logger.warn(`SMS outcome unknown after ${attempt} attempt(s), not retried: ${error.message}`);
        }
        throw error;
      }

      const remaining = deadline - this.clock.now();
      const backoff = this.clock.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.max(error.retryAfterMs ?? 0, backoff);
      if (remaining - delay < minAttemptMs) {
        const why =
          error.retryAfterMs !== undefined
            ? `Retry-After of ${error.retryAfterMs} ms does not fit in the ${Math.round(remaining)} ms left`
            : `deadline of ${deadlineMs} ms reached`;
        this.logger.warn(`SMS not sent after ${attempt} attempt(s): ${why}; last error: ${error.message}`);
        throw this.gaveUp(error, attempt, started);
      }
      try {
        await options.beforeRetry?.();
      } catch (refused) {
        const why = refused instanceof Error ? refused.message : String(refused);
        this.logger.warn(`SMS not sent after ${attempt} attempt(s): no retry allowed (${why})`);
        throw this.gaveUp(error, attempt, started);
      }
      this.logger.warn(`SMS attempt ${attempt} failed (${error.kind}); retrying in ${Math.round(delay)} ms`);
      await sleep(delay);
    }
  }

  /** The last (certainly not sent) error, saying how many attempts were made. */
  private gaveUp(error: SmsDeliveryError, attempts: number, started: number): SmsDeliveryError {
    return SmsDeliveryError.of(
      error.kind,
      `${error.message} (gave up after ${attempts} attempt(s), ${Math.round(this.clock.now() - started)} ms)`,
      error.providerStatus,
      { cause: error, retryAfterMs: error.retryAfterMs, mayHaveBeenSent: error.mayHaveBeenSent },
    );
  }
}
