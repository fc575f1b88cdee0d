import { Injectable } from '@nestjs/common';
import { maskPhone } from '../phone/phone.js';
import type { ChallengeResponse, SessionResponse } from './dto/auth-responses.js';
import type { OpenAttempt } from './second-factor/attempts.js';
import { JwtConfig } from './sessions/jwt.config.js';
import type { IssuedSession } from './sessions/sessions.service.js';
import { TokensService } from './sessions/tokens.service.js';

/** The two answers of the login flow: a challenge (partial token + where the PIN went) and a session. */
@Injectable()
export class AuthResponses {
  constructor(
    private readonly tokens: TokensService,
    private readonly jwt: JwtConfig,
  ) {}

  async challenge(attempt: OpenAttempt): Promise<ChallengeResponse> {
    return {
      accessToken: await this.tokens.signPartial(attempt.userId, attempt.id, attempt.expiresAt),
      tokenType: 'Bearer',
      expiresIn: secondsUntil(attempt.expiresAt),
      authLevel: 'partial',
      challenge: this.challengeOf(attempt),
    };
  }

  challengeOf(attempt: OpenAttempt): ChallengeResponse['challenge'] {
    return {
      channel: 'sms',
      to: maskPhone(attempt.phone),
      // Never more than the login attempt itself has left.
      expiresIn: secondsUntil(
        new Date(Math.min(attempt.pinExpiresAt.getTime(), attempt.expiresAt.getTime())),
      ),
      resendIn: secondsUntil(attempt.resendAt),
      delivery: attempt.delivery,
      attemptsLeft: attempt.attemptsLeft,
    };
  }

  /** `deviceToken`: the device just remembered (shown this once). */
  async session(session: IssuedSession, deviceToken?: string): Promise<SessionResponse> {
    return {
      accessToken: await this.tokens.signAccess(session),
      refreshToken: session.refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.jwt.accessTokenTtlSeconds,
      authLevel: 'full',
      ...(deviceToken && { deviceToken }),
    };
  }
}

function secondsUntil(at: Date): number {
  return Math.max(0, Math.ceil((at.getTime() - Date.now()) / 1000));
}
