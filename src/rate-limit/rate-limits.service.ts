import { createHash } from 'node:crypto';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { ApiException, type ClientContext, ErrorCode } from '../common/index.js';
import { LoginConfig } from '../auth/password/login.config.js';
import { PinConfig } from '../auth/second-factor/pin.config.js';
import { PhoneConfig } from '../phone/phone.config.js';
import { countryOf } from '../phone/phone.js';
import { Bucket, RateLimitStore } from './rate-limit.store.js';

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;
const QUARTER_HOUR = 900;
const MAX_REMEMBERED_REFUSALS = 10_000;

/** SMS budget taken for one send; `release()` gives it back when the SMS did not go out. */
export interface SmsAllowance {
  release(): Promise<void>;
}

export interface SmsRequester {
  phone: string;
  userId: string;
  client: ClientContext;
  /** A registration: `userId` is not an account yet, so the audit trail does not name it. */
  newAccount?: boolean;
}

/**
 * The service's limits against SMS pumping and guessing. Counters are shared by every instance (see
 * `RateLimitStore`); a limit of 0 is off. Over a limit: `429 TOO_MANY_REQUESTS` with `Retry-After`, the
 * guarded action (an SMS, a password or PIN check) does not happen, and a `rate_limited` event is recorded.
 */
@Injectable()
export class RateLimitsService {
  private readonly logger = new Logger(RateLimitsService.name);
  /** Limit key and window → the window's end: see `firstRefusal`. */
  private readonly refusals = new Map<string, number>();

  constructor(
    private readonly store: RateLimitStore,
    private readonly pin: PinConfig,
    private readonly login: LoginConfig,
    private readonly phone: PhoneConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** Before every PIN SMS (registration, login, resend): per phone, account, IP, and the global budget. */
  async consumeSms({ phone, userId, client, newAccount }: SmsRequester): Promise<SmsAllowance> {
    this.assertSmsCountryAllowed(phone);
    const l = this.pin.smsLimits;
    const release = await this.consume(
      [
        { name: 'sms_per_phone_hour', key: `sms:phone:${phone}`, limit: l.perPhoneHour, windowSeconds: HOUR },
        {
          name: 'sms_per_phone_day',
          key: `sms:phone-day:${phone}`,
          limit: l.perPhoneDay,
          windowSeconds: DAY,
        },
        {
          name: 'sms_per_account_hour',
          key: `sms:user:${userId}`,
          limit: l.perAccountHour,
          windowSeconds: HOUR,
        },
        {
          name: 'sms_per_ip_hour',
          key: `sms:ip:${ipKey(client.ip)}`,
          limit: l.perIpHour,
          windowSeconds: HOUR,
        },
        { name: 'sms_global_minute', key: 'sms:global', limit: l.globalPerMinute, windowSeconds: MINUTE },
      ],
      client,
      newAccount ? null : userId,
    );
    return { release };
  }

  /**
   * `SMS_ALLOWED_COUNTRIES`: SMS go only to numbers of these countries. Checked at registration (before the
   * account exists) and again before every send (the list may have changed since).
   */
  assertSmsCountryAllowed(phone: string): void {
    const allowed = this.phone.allowedCountries;
    const country = countryOf(phone);
    if (allowed.length && (!country || !allowed.includes(country))) {
      throw new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, [
        `phone: SMS cannot be sent to this country (allowed: ${allowed.join(', ')})`,
      ]);
    }
  }

  /** Before every PIN check: a per-account budget, so new logins and resends do not multiply guesses. */
  async consumePinCheck(userId: string, client: ClientContext): Promise<void> {
    const limit = this.pin.checksPerAccount15Min;
    await this.consume(
      [{ name: 'pin_checks_per_account', key: `pin:user:${userId}`, limit, windowSeconds: QUARTER_HOUR }],
      client,
      userId,
    );
  }

  /** Before every password check, per client IP. */
  async consumeLoginByIp(client: ClientContext): Promise<void> {
    const limit = this.login.perIp15Min;
    await this.consume(
      [{ name: 'logins_per_ip', key: `login:ip:${ipKey(client.ip)}`, limit, windowSeconds: QUARTER_HOUR }],
      client,
      null,
    );
  }

  /**
   * Reserves a password attempt for this login name, atomically: refused while the account is locked
   * (`LOGIN_LOCKOUT_THRESHOLD` consecutive failures → `LOGIN_LOCKOUT_SECONDS`) or while its growing delay
   * runs (after `LOGIN_FREE_FAILURES` failures: 1 s, 2 s, 4 s … up to `LOGIN_MAX_DELAY_SECONDS`). The attempt
   * counts as a failure until `loginSucceeded` clears it, so parallel guesses cannot slip in between a
   * check and its record. Unknown names are counted the same way, so the answers do not tell them apart.
   */
  async reserveLoginAttempt(email: string, client: ClientContext, userId: string | null): Promise<void> {
    const l = this.login;
    const emailHash = hashName(email);
    const rows: { failures: number }[] = await this.dataSource.query(
      `INSERT INTO login_failures AS f (email_hash, failures, last_attempt_at, locked_until)
       VALUES ($1, 1, now(), NULL)
       ON CONFLICT (email_hash) DO UPDATE
         SET failures = f.failures + 1,
             last_attempt_at = now(),
             locked_until = CASE WHEN $4::int > 0 AND f.failures + 1 >= $4::int
                                 THEN now() + make_interval(secs => $5::int) ELSE NULL END
       WHERE (f.locked_until IS NULL OR f.locked_until <= now())
         AND (f.failures < $2::int
              OR f.last_attempt_at + make_interval(secs => least(power(2, f.failures - $2::int), $3::int)) <= now())
       RETURNING f.failures`,
      [emailHash, l.freeFailures, l.maxDelaySeconds, l.lockoutThreshold, l.lockoutSeconds],
    );
    if (rows.length > 0) return;
    const [state]: { retry_after: number }[] = await this.dataSource.query(
      `SELECT ceil(extract(epoch FROM greatest(
                coalesce(locked_until, now()),
                last_attempt_at + make_interval(secs => least(power(2, greatest(failures - $2::int, 0)), $3::int))
              ) - now()))::int AS retry_after
         FROM login_failures WHERE email_hash = $1`,
      [emailHash, l.freeFailures, l.maxDelaySeconds],
    );
    const bucket = {
      name: 'login_failures_per_account',
      key: `login:name:${emailHash.toString('hex')}`,
      limit: 0,
    };
    if (this.firstRefusal({ ...bucket, windowSeconds: MINUTE }, new Date())) {
      await this.audit.record('rate_limited', client, userId, { limit: bucket.name });
    }
    throw tooManyRequests(Math.max(1, state?.retry_after ?? 1), 'Too many failed logins for this account');
  }

  /** A correct password: the consecutive-failure count starts again. */
  async loginSucceeded(email: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM login_failures WHERE email_hash = $1`, [hashName(email)]);
  }

  /**
   * True the first time (in this process) a bucket refuses in its current window: one log line and one
   * `rate_limited` event per limit and window, not one per refused request (which an attacker would control).
   */
  private firstRefusal(bucket: Bucket, at: Date): boolean {
    const windowMs = bucket.windowSeconds * 1000;
    const windowEnd = (Math.floor(at.getTime() / windowMs) + 1) * windowMs;
    const key = `${bucket.key}@${windowEnd}`;
    if (this.refusals.has(key)) return false;
    if (this.refusals.size >= MAX_REMEMBERED_REFUSALS) {
      for (const [k, end] of this.refusals) if (end <= at.getTime()) this.refusals.delete(k);
      if (this.refusals.size >= MAX_REMEMBERED_REFUSALS) this.refusals.clear();
    }
    this.refusals.set(key, windowEnd);
    return true;
  }

  /** Counts one hit in every bucket (or refuses with 429); returns how to take the hit back. */
  private async consume(
    buckets: Bucket[],
    client: ClientContext,
    userId: string | null,
  ): Promise<() => Promise<void>> {
    const active = buckets.filter((b) => b.limit > 0);
    const at = new Date();
    const result = await this.store.hit(active, at);
    if (result.allowed) return () => this.store.release(active, at);
    if (this.firstRefusal(result.bucket, at)) {
      this.logger.warn(`Rate limit reached: ${result.bucket.name}`);
      await this.audit.record('rate_limited', client, userId, { limit: result.bucket.name });
    }
    throw tooManyRequests(result.retryAfterSeconds);
  }
}

/**
 * The key a client address is limited under: IPv4 as is, IPv6 by its /64 (one subscriber usually holds a
 * whole /64, so per-address keys would let a single client rotate through 2^64 budgets).
 */
export function ipKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!ip.includes(':')) return ip;
  const [head, tail = ''] = ip.toLowerCase().split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

function hashName(email: string): Buffer {
  return createHash('sha256').update(email).digest();
}

export function tooManyRequests(
  retryAfter: number,
  message = 'Too many requests: try again later',
): ApiException {
  return new ApiException(
    HttpStatus.TOO_MANY_REQUESTS,
    ErrorCode.TOO_MANY_REQUESTS,
    message,
    { retryAfter },
    { 'Retry-After': String(retryAfter) },
  );
}
