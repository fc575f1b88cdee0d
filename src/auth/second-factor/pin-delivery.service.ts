import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { type ClientContext, validationFailed } from '../../common/index.js';
import { PinDestinations } from '../../phone/pin-destinations.service.js';
import {
  type Allowance,
  DAY,
  HOUR,
  MINUTE,
  perIpBuckets,
  RateLimiter,
} from '../../rate-limit/rate-limiter.service.js';
import type { Bucket } from '../../rate-limit/rate-limit.store.js';
import { SmsDeliveryService } from '../../sms/sms-delivery.service.js';
import type { DeliveryStatus } from '../../sms/sms-message.entity.js';
import { type SentSms, SmsDeliveryError, SmsSender } from '../../sms/sms-sender.js';
import { smsUnavailable } from '../auth-errors.js';
import { PinConfig } from './pin.config.js';
import { PinService } from './pin.service.js';

export interface PinRecipient {
  phone: string;
  userId: string;
  client: ClientContext;
  /** The number is the account's verified phone (a login); else a new number (registration, phone change). */
  verified: boolean;
  /** A registration: `userId` is not an account yet, so the audit trail does not name it. */
  newAccount?: boolean;
}

/**
 * Gets a PIN to the user's phone: the SMS budget (per phone, account, IP and global), the country
 * allow-list, the text in the user's language, the send, what a failure means for the client, the audit
 * trail and the delivery record. No database connection is held during the send.
 */
@Injectable()
export class PinDeliveryService {
  private readonly logger = new Logger(PinDeliveryService.name);

  constructor(
    private readonly config: PinConfig,
    private readonly destinations: PinDestinations,
    private readonly pins: PinService,
    private readonly sms: SmsSender,
    private readonly delivery: SmsDeliveryService,
    private readonly limiter: RateLimiter,
    private readonly audit: AuditService,
  ) {}

  /**
   * Takes one PIN SMS from every budget (or refuses with 429, sending nothing), after the destination
   * policy. A verified number draws from the login budgets; a new number (registration, phone change, a
   * number not verified yet) from budgets of its own, so that nobody can spend, by registering, what
   * verified users need to log in.
   */
  async reserve(recipient: PinRecipient): Promise<Allowance> {
    await this.destinations.assertAllowed(recipient.phone, recipient.verified);
    return this.charge(recipient);
  }

  /**
   * Before the password is checked: refused (429) when the caller's own login-pool budgets (its IP at every
   * prefix width, the global one) could not take the SMS a right password would send. So a right password
   * and a wrong one get the same answer, whatever the caller spent before, and nothing is counted here.
   */
  assertCallerBudget(client: ClientContext): Promise<void> {
    return this.limiter.check(this.callerBuckets(client, true), { client, userId: null });
  }

  /** One unit of every SMS budget (429 over any); each provider attempt of a send takes one. */
  private charge({ phone, userId, client, verified, newAccount }: PinRecipient): Promise<Allowance> {
    const l = this.config.smsLimits;
    const [pool, name] = verified ? ['sms', 'sms'] : ['sms-new', 'sms_new_number'];
    return this.limiter.consume(
      [
        {
          name: `${name}_per_phone_hour`,
          key: `${pool}:phone:${phone}`,
          limit: l.perPhoneHour,
          windowSeconds: HOUR,
        },
        {
          name: `${name}_per_phone_day`,
          key: `${pool}:phone-day:${phone}`,
          limit: l.perPhoneDay,
          windowSeconds: DAY,
        },
        {
          name: 'sms_per_account_hour',
          key: `sms:user:${userId}`,
          limit: l.perAccountHour,
          windowSeconds: HOUR,
        },
        ...this.callerBuckets(client, verified),
      ],
      { client, userId: newAccount ? null : userId },
    );
  }

  /** The budgets a caller fills by its own requests: its IP (every prefix width) and the pool's global one. */
  private callerBuckets(client: ClientContext, verified: boolean): Bucket[] {
    const l = this.config.smsLimits;
    const [pool, name] = verified ? ['sms', 'sms'] : ['sms-new', 'sms_new_number'];
    return [
      ...perIpBuckets(`${name}_per_ip_hour`, `${pool}:ip`, client.ip, l.perIpHour, HOUR),
      verified
        ? { name: 'sms_global_minute', key: 'sms:global', limit: l.globalPerMinute, windowSeconds: MINUTE }
        : {
            name: 'sms_new_number_global_minute',
            key: 'sms-new:global',
            limit: l.newNumbersGlobalPerMinute,
            windowSeconds: MINUTE,
          },
    ];
  }

  /**
   * Sends `pin` for the login attempt `reference` in the user's language and records the message for
   * delivery tracking. The first provider attempt is charged to the budget `allowance` (taken here when not
   * given), and every retry to one more unit of the same budget (a retry the budget cannot afford is not
   * made). Three outcomes:
   * - accepted: resolves to the delivery status (`pending` until the delivery report, or `unknown`);
   * - uncertain (a timeout or a 5xx after the request reached the provider: the SMS may arrive): resolves
   *   to `unknown` and keeps every unit, so the caller keeps the PIN usable and the client may resend after
   *   the cooldown. Never a 503 for an SMS that may have arrived;
   * - certainly not sent: gives every unit back (retrying once the provider works again is not refused)
   *   and throws `503 SMS_UNAVAILABLE`, or `400 VALIDATION_FAILED` when the provider refused the number.
   */
  async send(
    reference: string,
    pin: string,
    locale: string | undefined,
    recipient: PinRecipient,
    allowance?: Allowance,
  ): Promise<DeliveryStatus> {
    const { phone, userId, client } = recipient;
    const charged: Allowance[] = [allowance ?? (await this.reserve(recipient))];
    const tracked = await this.delivery.track(reference).catch(async (error: unknown) => {
      await charged[0].release(); // nothing was sent
      throw error;
    });
    let sent: SentSms;
    try {
      sent = await this.sms.send(
        {
          to: phone,
          text: this.pins.message(pin, locale),
          locale,
          otp: { code: pin, minutes: this.pins.minutes() },
          callbackUrl: tracked.callbackUrl,
        },
        { beforeRetry: async () => void charged.push(await this.charge(recipient)) },
      );
    } catch (error) {
      if (error instanceof SmsDeliveryError && !error.mayHaveBeenSent) {
        for (const unit of charged) await unit.release();
        await this.delivery.discard(tracked.id);
        await this.audit.record('pin_send_failed', client, userId, { reason: error.reason });
        if (error.reason === 'recipient_rejected') {
          throw validationFailed('phone: the SMS provider rejected this number');
        }
        this.logger.warn(`PIN SMS not sent: ${error.message}`);
        throw smsUnavailable();
      }
      // Anything else may have reached the provider: the PIN may arrive, so it must stay usable.
      const why = error instanceof Error ? error.message : String(error);
      if (error instanceof SmsDeliveryError) this.logger.warn(`PIN SMS outcome unknown: ${why}`);
      else this.logger.error(`Unexpected error sending a PIN SMS (treated as maybe sent): ${why}`);
      await this.audit.record('pin_send_uncertain', client, userId, {
        kind: error instanceof SmsDeliveryError ? error.kind : 'error',
      });
      await this.destinations.recordSent(phone, client);
      return this.delivery.recordUncertain(tracked.id);
    }
    await this.audit.record('pin_sent', client, userId);
    await this.destinations.recordSent(phone, client);
    return this.delivery.recordSent(tracked.id, sent);
  }

  /** A PIN sent to `phone` was verified (the fraud guard weighs sends against verifications). */
  verified(phone: string): Promise<void> {
    return this.destinations.recordVerified(phone);
  }

  /** The delivery status of the newest PIN SMS for `reference`. */
  latestStatus(reference: string): Promise<DeliveryStatus> {
    return this.delivery.latestStatus(reference);
  }
}
