import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { ApiException, type ClientContext, ErrorCode, type FullPrincipal } from '../common/index.js';
import type { User } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { phoneTaken } from './auth-errors.js';
import { AuthResponses } from './auth-responses.js';
import { TrustedDevicesService } from './devices/trusted-devices.service.js';
import type { ChallengeResponse, SessionResponse } from './dto/auth-responses.js';
import { LoginAttemptsService } from './second-factor/login-attempts.service.js';
import { RefreshRotationService } from './sessions/refresh-rotation.service.js';
import { SessionsService } from './sessions/sessions.service.js';
import { DEVICE_AMR } from './sessions/tokens.service.js';

/** The step after the password, refresh and logout. Controllers only call this. */
@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly attempts: LoginAttemptsService,
    private readonly sessions: SessionsService,
    private readonly rotation: RefreshRotationService,
    private readonly devices: TrustedDevicesService,
    private readonly responses: AuthResponses,
    private readonly audit: AuditService,
  ) {}

  /**
   * After a right password: a session at once when `deviceToken` is one of the user's live remembered
   * devices; otherwise a login attempt and its PIN, unless another account has verified the number, or the
   * account's second factor is suspended (429 SECOND_FACTOR_LOCKED, no SMS). A wrong, expired or forgotten
   * device token is ignored.
   */
  async login(
    user: User,
    client: ClientContext,
    deviceToken?: string,
  ): Promise<ChallengeResponse | SessionResponse> {
    const device = deviceToken ? await this.devices.use(user.id, deviceToken) : undefined;
    if (device) return this.deviceLogin(user, device, client);
    if (!user.phoneVerifiedAt && (await this.users.phoneVerifiedElsewhere(user.phone, user.id))) {
      throw phoneTaken();
    }
    try {
      return await this.responses.challenge(await this.attempts.open(user, client));
    } catch (error) {
      if (error instanceof ApiException && error.code === ErrorCode.SECOND_FACTOR_LOCKED) {
        await this.audit.record('login_blocked', client, user.id, { reason: error.code });
      }
      throw error;
    }
  }

  /**
   * The device stands in for the PIN: the session's second factor is the device's last proven PIN (so
   * step-up routes still ask for one) and its `amr` says `device`, not `sms`. Allowed while the second
   * factor is suspended: wrong PINs from elsewhere must not lock the owner out of their own devices.
   */
  private async deviceLogin(
    user: User,
    device: { id: string; secondFactorAt: Date },
    client: ClientContext,
  ): Promise<SessionResponse> {
    const now = new Date();
    const session = await this.sessions.create(user.id, {
      authenticatedAt: now,
      secondFactorAt: device.secondFactorAt,
      amr: DEVICE_AMR,
      client,
      deviceId: device.id,
    });
    await this.audit.record('device_used', client, user.id, { device: device.id });
    return this.responses.session(session);
  }

  async refresh(refreshToken: string, client: ClientContext): Promise<SessionResponse> {
    return this.responses.session(await this.rotation.rotate(refreshToken, client));
  }

  /** Ends the caller's session, and the session of `refreshToken` too when it is one of the caller's. */
  async logout(principal: FullPrincipal, client: ClientContext, refreshToken?: string): Promise<void> {
    const { userId, sessionId } = principal;
    await this.sessions.revoke(sessionId, userId);
    const other = refreshToken ? await this.sessions.sessionOfRefreshToken(refreshToken, userId) : undefined;
    if (other && other !== sessionId) await this.sessions.revoke(other, userId);
    await this.audit.record('logout', client, userId);
  }
}
