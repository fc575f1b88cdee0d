import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** One limit: at most `limit` hits per `windowSeconds` for `key`. */
export interface Bucket {
  /** Stable name for logs and the audit trail, e.g. `sms_per_phone_hour`. */
  name: string;
  key: string;
  limit: number;
  windowSeconds: number;
}

export type HitResult = { allowed: true } | { allowed: false; retryAfterSeconds: number; bucket: Bucket };

/**
 * Where limit counters live. The default is PostgreSQL, so that several instances behind a load balancer
 * enforce the same limits; another store (e.g. Redis) is a new class bound to this token.
 */
export abstract class RateLimitStore {
  /**
   * Counts one hit in every bucket, or in none: if any bucket is full, nothing is counted and the result
   * says how long until that bucket's window ends.
   */
  abstract hit(buckets: Bucket[], now?: Date): Promise<HitResult>;

  /** Takes back one hit counted at `at` in every bucket (the guarded action did not happen after all). */
  abstract release(buckets: Bucket[], at: Date): Promise<void>;

  /** Whether one more hit would fit in every bucket, counting nothing. */
  abstract peek(buckets: Bucket[], now?: Date): Promise<HitResult>;
}

/** The counter's key as stored: bounded to the column's 200 characters (a longer key is stored by its hash). */
function storedKey(bucket: Bucket): string {
  return bucket.key.length <= 200
    ? bucket.key
    : `sha256:${createHash('sha256').update(bucket.key).digest('hex')}`;
}

function windowOf(bucket: Bucket, at: Date): { start: Date; end: Date } {
  const windowMs = bucket.windowSeconds * 1000;
  const start = new Date(Math.floor(at.getTime() / windowMs) * windowMs);
  return { start, end: new Date(start.getTime() + windowMs) };
}

@Injectable()
/** Counters of ended windows are deleted by `RetentionService`. */
export class PostgresRateLimitStore extends RateLimitStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    super();
  }

  async hit(buckets: Bucket[], now = new Date()): Promise<HitResult> {
    if (buckets.length === 0) return { allowed: true };
    // A fixed key order means two transactions never wait for each other's rows in opposite orders.
    const ordered = [...buckets].sort((a, b) =>
      storedKey(a) < storedKey(b) ? -1 : storedKey(a) > storedKey(b) ? 1 : 0,
    );
    try {
      return await this.dataSource.transaction(async (manager) => {
        for (const bucket of ordered) {
          const { start: windowStart, end: windowEnd } = windowOf(bucket, now);
          // Row-locking upsert: increments only while under the limit, atomically across instances.
          const rows: unknown[] = await manager.query(
            `INSERT INTO rate_limit_counters AS c (key, window_start, hits, expires_at)
             VALUES ($1, $2, 1, $3)
             ON CONFLICT (key, window_start) DO UPDATE SET hits = c.hits + 1 WHERE c.hits < $4
             RETURNING c.hits`,
            [storedKey(bucket), windowStart, windowEnd, bucket.limit],
          );
          if (rows.length === 0) {
            throw new BucketFull(
              bucket,
              Math.max(1, Math.ceil((windowEnd.getTime() - now.getTime()) / 1000)),
            );
          }
        }
        return { allowed: true as const };
      });
    } catch (error) {
      if (error instanceof BucketFull) {
        return { allowed: false, retryAfterSeconds: error.retryAfterSeconds, bucket: error.bucket };
      }
      throw error;
    }
  }

  async peek(buckets: Bucket[], now = new Date()): Promise<HitResult> {
    for (const bucket of buckets) {
      const { start, end } = windowOf(bucket, now);
      const [row]: { hits: number }[] = await this.dataSource.query(
        `SELECT hits FROM rate_limit_counters WHERE key = $1 AND window_start = $2`,
        [storedKey(bucket), start],
      );
      if (row && row.hits >= bucket.limit) {
        return {
          allowed: false,
          bucket,
          retryAfterSeconds: Math.max(1, Math.ceil((end.getTime() - now.getTime()) / 1000)),
        };
      }
    }
    return { allowed: true };
  }

  async release(buckets: Bucket[], at: Date): Promise<void> {
    for (const bucket of buckets) {
      await this.dataSource.query(
        `UPDATE rate_limit_counters SET hits = hits - 1 WHERE key = $1 AND window_start = $2 AND hits > 0`,
        [storedKey(bucket), windowOf(bucket, at).start],
      );
    }
  }
}

/** Rolls the transaction back (nothing counted) and carries the answer out. */
class BucketFull extends Error {
  constructor(
    readonly bucket: Bucket,
    readonly retryAfterSeconds: number,
  ) {
    super(`rate limit ${bucket.key}`);
  }
}
