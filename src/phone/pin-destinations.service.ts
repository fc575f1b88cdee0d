import { Injectable } from '@nestjs/common';
import type { ClientContext } from '../common/index.js';
import { assertPinDestination } from './destination-policy.js';
import { FraudGuard, type PinChannel } from './fraud-guard.service.js';
import { PhoneConfig } from './phone.config.js';

/**
 * Where a PIN may go, asked before every send: the number policy (non-geographic codes, blocked prefixes,
 * allowed countries) and the fraud guard's pauses — which never stop a trusted number (one verified on its
 * account, with successful logins behind it).
 */
@Injectable()
export class PinDestinations {
  constructor(
    private readonly config: PhoneConfig,
    private readonly guard: FraudGuard,
  ) {}

  /** @throws 400 VALIDATION_FAILED (the number) or 429 DESTINATION_PAUSED (its destination, for now). */
  async assertAllowed(phone: string, trusted: boolean, channel: PinChannel = 'sms'): Promise<void> {
    assertPinDestination(phone, this.config);
    if (!trusted) await this.guard.assertNotPaused(phone, channel);
  }

  recordSent(phone: string, client: ClientContext, channel: PinChannel = 'sms'): Promise<void> {
    return this.guard.recordSent(phone, channel, client);
  }

  recordVerified(phone: string, channel: PinChannel = 'sms'): Promise<void> {
    return this.guard.recordVerified(phone, channel);
  }
}
