import { Controller, Get } from '@nestjs/common';
import { CurrentUser, type FullPrincipal } from '../../common/index.js';

/** `GET /auth/session`: what the verified token says, for SPAs to call on every page load. */
export interface SessionFacts {
  userId: string;
  sessionId: string;
  /** When the user last authenticated in this session (ISO 8601). */
  authTime: string;
  /** When the second factor was last proven in this session (ISO 8601). */
  secondFactorAt: string;
  amr: string[];
  /** When this access token expires (ISO 8601). */
  expiresAt: string;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

@Controller()
export class SessionsController {
  /** From the verified token and the guard alone: no query beyond the guard's. */
  @Get('auth/session')
  session(@CurrentUser() me: FullPrincipal): SessionFacts {
    return {
      userId: me.userId,
      sessionId: me.sessionId,
      authTime: iso(me.authTime),
      secondFactorAt: iso(me.secondFactorAt),
      amr: me.amr,
      expiresAt: iso(me.expiresAt),
    };
  }
}
