import { Controller, Delete, Get, HttpCode, HttpStatus } from '@nestjs/common';
import { Client, type ClientContext, CurrentUser, type FullPrincipal, IdParam } from '../../common/index.js';
import { SessionsAdminService } from './sessions-admin.service.js';

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

/** One entry of `GET /users/me/sessions`. */
export interface SessionView {
  id: string;
  /** The session of the token that asks. */
  current: boolean;
  createdAt: string;
  /** The last refresh (or the start). */
  lastUsedAt: string;
  ip: string | null;
  userAgent: string | null;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

@Controller()
export class SessionsController {
  constructor(private readonly sessions: SessionsAdminService) {}

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

  /** The caller's live sessions, newest first. */
  @Get('users/me/sessions')
  async list(@CurrentUser() me: FullPrincipal): Promise<{ sessions: SessionView[] }> {
    const live = await this.sessions.list(me.userId);
    return {
      sessions: live.map((s) => ({
        id: s.id,
        current: s.id === me.sessionId,
        createdAt: s.createdAt.toISOString(),
        lastUsedAt: s.lastUsedAt.toISOString(),
        ip: s.ip,
        userAgent: s.userAgent,
      })),
    };
  }

  /** Ends one of the caller's sessions at once (its refresh and access tokens stop working). */
  @Delete('users/me/sessions/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  async end(
    @CurrentUser() me: FullPrincipal,
    @IdParam('id', 'No such session') id: string,
    @Client() client: ClientContext,
  ): Promise<void> {
    await this.sessions.end(me, id, client);
  }

  /** Ends every other session of the caller (and forgets its remembered devices); this one stays. */
  @Delete('users/me/sessions')
  @HttpCode(HttpStatus.NO_CONTENT)
  async endOthers(@CurrentUser() me: FullPrincipal, @Client() client: ClientContext): Promise<void> {
    await this.sessions.endOthers(me, client);
  }
}
