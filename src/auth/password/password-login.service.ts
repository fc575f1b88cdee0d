import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import type { ClientContext } from '../../common/index.js';
import { perIpBuckets, QUARTER_HOUR, RateLimiter } from '../../rate-limit/rate-limiter.service.js';
import type { User } from '../../users/user.entity.js';
import { UsersService } from '../../users/users.service.js';
import { TrustedDevicesService } from '../devices/trusted-devices.service.js';
import { PinDeliveryService } from '../second-factor/pin-delivery.service.js';
import { LoginConfig } from './login.config.js';
import { LoginFailuresService } from './login-failures.service.js';
import { PasswordService } from './password.service.js';

/** The password step (passport-local's verify): who may try, and whether the password is right. */
@Injectable()
export class PasswordLoginService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly failures: LoginFailuresService,
    private readonly limiter: RateLimiter,
    private readonly config: LoginConfig,
    private readonly delivery: PinDeliveryService,
    private readonly devices: TrustedDevicesService,
    private readonly audit: AuditService,
  ) {}

  /**
   * The user, or `undefined` for an unknown email or a wrong password, in about the same time. Refused with
   * 429 before any hashing when the IP or the login name is over its limits.
   */
  async check(
    email: string,
    password: string,
    client: ClientContext,
    deviceToken?: string,
  ): Promise<User | undefined> {
    await this.limiter.consume(
      perIpBuckets('logins_per_ip', 'login:ip', client.ip, this.config.perIp15Min, QUARTER_HOUR),
      { client, userId: null },
    );
    const user = await this.users.findByEmail(email);
    // A right password sends an SMS: if this caller's SMS budget could not take it, refuse now, before the
    // password is checked, so a right and a wrong password cannot be told apart by that budget. A login on
    // one of this user's live remembered devices sends none (and only its holder knows its token).
    const onDevice = Boolean(user && deviceToken && (await this.devices.isLive(user.id, deviceToken)));
    if (!onDevice) await this.delivery.assertCallerBudget(client);
    await this.failures.reserve(email, client, user?.id ?? null);
    const ok = await this.passwords.verify(user?.passwordHash, password);
    if (ok && user) {
      await this.failures.succeeded(email);
      await this.audit.record('login_succeeded', client, user.id);
      return user;
    }
    await this.audit.record('login_failed', client, user?.id ?? null);
    return undefined;
  }
}
