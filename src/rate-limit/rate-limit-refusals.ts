import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { ClientContext } from '../common/index.js';

const MAX_REMEMBERED = 10_000;

/**
 * Says once that a limit refused: one log line and one `rate_limited` audit event per limit key and window
 * (in this process), not one per refused request, whose number an attacker controls.
 */
@Injectable()
export class RateLimitRefusals {
  private readonly logger = new Logger('RateLimit');
  /** Limit key and window → the window's end. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly audit: AuditService) {}

  async record(
    limit: { name: string; key: string; windowSeconds: number },
    client: ClientContext,
    userId: string | null,
    at = new Date(),
  ): Promise<void> {
    if (!this.first(limit.key, limit.windowSeconds, at)) return;
    this.logger.warn(`Rate limit reached: ${limit.name}`);
    await this.audit.record('rate_limited', client, userId, { limit: limit.name });
  }

  private first(key: string, windowSeconds: number, at: Date): boolean {
    const windowMs = windowSeconds * 1000;
    const windowEnd = (Math.floor(at.getTime() / windowMs) + 1) * windowMs;
    const id = `${key}@${windowEnd}`;
    if (this.seen.has(id)) return false;
    if (this.seen.size >= MAX_REMEMBERED) {
      for (const [k, end] of this.seen) if (end <= at.getTime()) this.seen.delete(k);
      if (this.seen.size >= MAX_REMEMBERED) this.seen.clear();
    }
    this.seen.set(id, windowEnd);
    return true;
  }
}
