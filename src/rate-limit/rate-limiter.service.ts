import { Injectable } from '@nestjs/common';
import { type ClientContext, tooManyRequests } from '../common/index.js';
import { ipPrefixes } from './ip-key.js';
import { RateLimitRefusals } from './rate-limit-refusals.js';
import { Bucket, RateLimitStore } from './rate-limit.store.js';

export const MINUTE = 60;
export const QUARTER_HOUR = 900;
export const HOUR = 3600;
export const DAY = 86400;

/** What one `consume` took; `release()` gives it back when the guarded action did not happen after all. */
export interface Allowance {
  release(): Promise<void>;
}

/**
 * Fixed-window limits any module may use: name its buckets (a key it builds, a limit, a window) and call
 * `consume` before the action they guard. Counters live in the `RateLimitStore` (PostgreSQL by default), so
 * every instance enforces the same limits. A bucket with limit 0 is off.
 *
 * ```ts
 * await this.limiter.consume(
 *   [{ name: 'exports_per_user_hour', key: `exports:user:${userId}`, limit: 5, windowSeconds: HOUR }],
 *   { client, userId },
 * );
 * ```
 */
@Injectable()
export class RateLimiter {
  constructor(
    private readonly store: RateLimitStore,
    private readonly refusals: RateLimitRefusals,
  ) {}

  /**
   * Counts one hit in every bucket, or in none: over any limit it throws `429 TOO_MANY_REQUESTS` with
   * `Retry-After` (the time left in the full bucket's window) and records a `rate_limited` event once per
   * limit and window.
   */
  async consume(
    buckets: Bucket[],
    who: { client: ClientContext; userId: string | null },
  ): Promise<Allowance> {
    const active = buckets.filter((b) => b.limit > 0);
    const at = new Date();
    const result = await this.store.hit(active, at);
    if (result.allowed) return { release: () => this.store.release(active, at) };
    await this.refusals.record(result.bucket, who.client, who.userId, at);
    throw tooManyRequests(result.retryAfterSeconds);
  }

  /**
   * Refuses like `consume` when any bucket is already full, but counts nothing: for a limit that a later
   * step will charge, checked early so that the answer cannot depend on what happens in between.
   */
  async check(buckets: Bucket[], who: { client: ClientContext; userId: string | null }): Promise<void> {
    const active = buckets.filter((b) => b.limit > 0);
    const at = new Date();
    const result = await this.store.peek(active, at);
    if (result.allowed) return;
    await this.refusals.record(result.bucket, who.client, who.userId, at);
    throw tooManyRequests(result.retryAfterSeconds);
  }
}

/**
 * A per-IP limit as one bucket per prefix (see `ipPrefixes`): `<name>` for the address (IPv4) or its /64
 * (IPv6) with `limit`, then `<name>_24` / `<name>_56` (5×) and `<name>_48` (20×), so that rotating addresses
 * inside one allocation does not multiply the budget.
 */
export function perIpBuckets(
  name: string,
  keyPrefix: string,
  ip: string,
  limit: number,
  windowSeconds: number,
): Bucket[] {
  return ipPrefixes(ip).map((prefix, i) => ({
    name: i === 0 ? name : `${name}_${prefix.key.split('/')[1]}`,
    key: `${keyPrefix}:${prefix.key}`,
    limit: limit * prefix.factor,
    windowSeconds,
  }));
}
