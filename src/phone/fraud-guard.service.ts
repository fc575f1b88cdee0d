import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { ApiException, type ClientContext, ErrorCode } from '../common/index.js';
import { DestinationStat } from './destination-stat.entity.js';
import { FraudGuardConfig } from './fraud-guard.config.js';
import { countryOf } from './phone.js';

/** How a PIN reached the user. */
export type PinChannel = 'sms' | 'voice';

interface Destination {
  scope: 'country' | 'prefix';
  key: string;
}

/** The destinations a number counts under: its country and its first six digits. */
export function destinationsOf(phone: string): Destination[] {
  return [
    { scope: 'country', key: countryOf(phone) ?? 'none' },
    { scope: 'prefix', key: phone.slice(0, 7) },
  ];
}

export function destinationPaused(retryAfter: number): ApiException {
  return new ApiException(
    HttpStatus.TOO_MANY_REQUESTS,
    ErrorCode.DESTINATION_PAUSED,
    'Verification codes to this destination are paused for now: try again later',
    { retryAfter },
    { 'Retry-After': String(retryAfter) },
  );
}

/**
 * A self-hosted guard against SMS pumping (toll fraud): per destination country and per number prefix,
 * PINs sent are compared with PINs verified over the last FRAUD_GUARD_WINDOW_MINUTES. Once a destination has
 * been sent FRAUD_GUARD_MIN_SENT and fewer than FRAUD_GUARD_MIN_VERIFY_RATE of them were verified, it is
 * paused for FRAUD_GUARD_PAUSE_MINUTES: its PINs are refused (`429 DESTINATION_PAUSED`), an error-level alarm
 * is logged and the pause is audited. Counts and pauses live in PostgreSQL, shared by every instance.
 */
@Injectable()
export class FraudGuard {
  private readonly logger = new Logger(FraudGuard.name);

  constructor(
    @InjectRepository(DestinationStat) private readonly stats: Repository<DestinationStat>,
    private readonly config: FraudGuardConfig,
    private readonly audit: AuditService,
  ) {}

  /** @throws 429 DESTINATION_PAUSED while the number's country or prefix is paused on this channel. */
  async assertNotPaused(phone: string, channel: PinChannel): Promise<void> {
    if (!this.config.enabled) return;
    const [country, prefix] = destinationsOf(phone);
    const [row]: { retry_after: number | null }[] = await this.stats.query(
      `SELECT ceil(extract(epoch FROM max(until) - now()))::int AS retry_after FROM destination_pauses
        WHERE channel = $1 AND until > now()
          AND ((scope = 'country' AND key = $2) OR (scope = 'prefix' AND key = $3))`,
      [channel, country.key, prefix.key],
    );
    if (row?.retry_after) throw destinationPaused(Math.max(1, row.retry_after));
  }

  /** One PIN on its way to `phone`; pauses the destination when its verify rate has fallen too low. */
  async recordSent(phone: string, channel: PinChannel, client: ClientContext): Promise<void> {
    if (!this.config.enabled) return;
    await this.count(phone, channel, 'sent');
    const { windowMinutes, minSent, minVerifyRate, pauseMinutes } = this.config;
    const [country, prefix] = destinationsOf(phone);
    const paused: { scope: string; key: string; sent: number; verified: number }[] = await this.stats.query(
      `WITH windowed AS (
         SELECT scope, key, sum(sent)::int AS sent, sum(verified)::int AS verified FROM destination_stats
          WHERE channel = $1 AND minute > now() - make_interval(mins => $4::int)
            AND ((scope = 'country' AND key = $2) OR (scope = 'prefix' AND key = $3))
          GROUP BY scope, key)
       INSERT INTO destination_pauses AS p (channel, scope, key, until, sent, verified)
       SELECT $1, scope, key, now() + make_interval(mins => $7::int), sent, verified FROM windowed
        WHERE sent >= $5::int AND verified < sent * $6::float8
       ON CONFLICT (channel, scope, key) DO UPDATE
         SET until = excluded.until, sent = excluded.sent, verified = excluded.verified, created_at = now()
         WHERE p.until <= now()
       RETURNING scope, key, sent, verified`,
      [channel, country.key, prefix.key, windowMinutes, minSent, minVerifyRate, pauseMinutes],
    );
    for (const pause of paused) {
      this.logger.error(
        `Fraud guard: ${channel} PINs to ${pause.scope} ${pause.key} paused for ${pauseMinutes} min ` +
          `(${pause.verified} of ${pause.sent} verified in ${windowMinutes} min)`,
      );
      await this.audit.record('destination_paused', client, null, {
        channel,
        scope: pause.scope,
        key: pause.key,
        sent: pause.sent,
        verified: pause.verified,
      });
    }
  }

  /** A PIN sent to `phone` was verified. */
  async recordVerified(phone: string, channel: PinChannel): Promise<void> {
    if (this.config.enabled) await this.count(phone, channel, 'verified');
  }

  /** Destinations paused right now (for /health). */
  async activePauses(): Promise<number> {
    if (!this.config.enabled) return 0;
    const [row]: { n: number }[] = await this.stats.query(
      `SELECT count(*)::int AS n FROM destination_pauses WHERE until > now()`,
    );
    return row?.n ?? 0;
  }

  private async count(phone: string, channel: PinChannel, column: 'sent' | 'verified'): Promise<void> {
    const [country, prefix] = destinationsOf(phone);
    await this.stats.query(
      `INSERT INTO destination_stats AS s (channel, scope, key, minute, sent, verified)
       VALUES ($1, 'country', $2, date_trunc('minute', now()), $4, $5),
              ($1, 'prefix', $3, date_trunc('minute', now()), $4, $5)
       ON CONFLICT (channel, scope, key, minute) DO UPDATE
         SET sent = s.sent + excluded.sent, verified = s.verified + excluded.verified`,
      [channel, country.key, prefix.key, column === 'sent' ? 1 : 0, column === 'verified' ? 1 : 0],
    );
  }
}
