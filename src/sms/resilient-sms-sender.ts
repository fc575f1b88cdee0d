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
 * - Transient failures (`SmsDeliveryError.transient`: timeout, connection error, 5xx, 429) are retried with
 *   exponential backoff and full jitter until `deadlineMs` is spent. Each attempt gets an abort signal that
 *   fires at the deadline, so no attempt outlives it. A `Retry-After` is waited out if it fits in what is
 *   left; if it does not, the send fails at once. Anything else (4xx, recipient rejected) fails at once.
 * - A send (all its attempts) that ends in failure counts once against the breaker; `threshold` of them in
 *   a row open it, and sends then fail fast with `kind: 'circuit_open'` (no call to the provider) until the
 *   cooldown lets one trial through. A rejected recipient is the provider working: it counts as a success.
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
      const sent = await this.withRetries(sms, options.signal);
      this.breaker.success();
      return sent;
    } catch (error) {
      if (error instanceof SmsDeliveryError && error.kind === 'recipient_rejected') this.breaker.success();
      else this.breaker.failure();
      throw error;
    }
  }

  private async withRetries(sms: OutgoingSms, callerSignal: AbortSignal | undefined): Promise<SentSms> {
    const { deadlineMs, baseDelayMs, maxDelayMs, minAttemptMs } = this.policy;
    const started = this.clock.now();
    const deadline = started + deadlineMs;
    const signal = AbortSignal.any([
      AbortSignal.timeout(deadlineMs),
      ...(callerSignal ? [callerSignal] : []),
    ]);
    let uncertain = false; // did any attempt so far possibly send the SMS?
    for (let attempt = 1; ; attempt += 1) {
      let error: SmsDeliveryError;
      try {
        return await this.inner.send(sms, { signal });
      } catch (thrown) {
        if (!(thrown instanceof SmsDeliveryError)) throw thrown;
        error = thrown;
      }
      const mayHaveBeenSent: boolean = uncertain || error.mayHaveBeenSent;
      uncertain = mayHaveBeenSent;
      if (!error.transient || callerSignal?.aborted) {
        throw mayHaveBeenSent === error.mayHaveBeenSent
          ? error
          : SmsDeliveryError.of(error.kind, error.message, error.providerStatus, {
              cause: error,
              mayHaveBeenSent,
            });
      }

      const remaining = deadline - this.clock.now();
      const delay =
        error.retryAfterMs ?? this.clock.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      if (remaining - delay < minAttemptMs) {
        const why =
          error.retryAfterMs !== undefined
            ? `Retry-After of ${error.retryAfterMs} ms does not fit in the ${Math.round(remaining)} ms left`
            : `deadline of ${deadlineMs} ms reached`;
        this.logger.warn(`SMS not sent after ${attempt} attempt(s): ${why}; last error: ${error.message}`);
        throw SmsDeliveryError.of(
          error.kind,
          `${error.message} (gave up after ${attempt} attempt(s), ${Math.round(this.clock.now() - started)} ms)`,
          error.providerStatus,
          { cause: error, retryAfterMs: error.retryAfterMs, mayHaveBeenSent },
        );
      }
      this.logger.warn(`SMS attempt ${attempt} failed (${error.kind}); retrying in ${Math.round(delay)} ms`);
      await sleep(delay);
    }
  }
}
