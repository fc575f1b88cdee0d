import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import type { ClientContext } from '../../common/index.js';
import { JwtConfig } from './jwt.config.js';
import { RefreshToken } from './refresh-token.entity.js';
import { Session, type SessionEndReason } from './session.entity.js';
import { type AccessClaims, TokensService } from './tokens.service.js';

/** A session as its tokens describe it, with the refresh token just issued for it. */
export interface IssuedSession extends AccessClaims {
  /** When the session started: it ends SESSION_MAX_SECONDS later, however often it is refreshed. */
  startedAt: Date;
  refreshToken: string;
}

/** How a new session was authenticated, and from where. */
export interface SessionStart {
  authenticatedAt: Date;
  secondFactorAt: Date;
  amr: string[];
  client: ClientContext;
  /** The remembered device the session was opened on, if any. */
  deviceId?: string;
}

/** One of the user's live sessions, as `GET /users/me/sessions` lists it. */
export interface LiveSession {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/**
 * Full sessions and the rows of their refresh tokens: created after the second factor, ended by logout or
 * by reuse detection. Spending a refresh token is `RefreshRotationService`'s job.
 */
@Injectable()
export class SessionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tokens: TokensService,
    private readonly config: JwtConfig,
  ) {}

  /** Inside the transaction that closes a verified login attempt; in its own for a remembered device. */
  async create(userId: string, start: SessionStart, manager?: EntityManager): Promise<IssuedSession> {
    if (!manager) return this.dataSource.transaction((m) => this.create(userId, start, m));
    const sessionId = randomUUID();
    const { client, deviceId, ...claims } = start;
    const startedAt = claims.authenticatedAt;
    await manager.insert(Session, {
      id: sessionId,
      userId,
      ...claims,
      deviceId: deviceId ?? null,
      ip: client.ip.slice(0, 45),
      userAgent: client.userAgent?.slice(0, 256) ?? null,
      lastUsedAt: null,
      createdAt: startedAt,
      revokedAt: null,
      revokedReason: null,
    });
    // The first refresh token of a session is random; every later one is derived from its predecessor.
    const { token, hash } = this.tokens.newRefreshToken();
    await this.storeRefreshToken(manager, sessionId, startedAt, hash);
    return { userId, sessionId, ...claims, startedAt, refreshToken: token };
  }

  /**
   * A step-up: the session has just proven its second factor again. Its `auth_time` and second-factor time
   * move to `now`, its amr gains `sms`/`mfa`, and its refresh tokens start a new chain: the unspent ones are
   * spent (as by a refresh) and a new one is issued. Undefined when the session has ended meanwhile.
   */
  async stepUp(
    sessionId: string,
    userId: string,
    now: Date,
    manager: EntityManager,
  ): Promise<(IssuedSession & { deviceId: string | null }) | undefined> {
    const session = await manager.findOne(Session, {
      where: { id: sessionId, userId, revokedAt: IsNull() },
      lock: { mode: 'pessimistic_write' },
    });
    if (!session || session.createdAt.getTime() <= now.getTime() - this.config.sessionMaxSeconds * 1000)
      return;
    const amr = session.amr.includes('sms') ? session.amr : [...session.amr, 'sms', 'mfa'];
    await manager.update(Session, { id: sessionId }, { authenticatedAt: now, secondFactorAt: now, amr });
    await manager.update(RefreshToken, { sessionId, usedAt: IsNull() }, { usedAt: () => 'now()' });
    const { token, hash } = this.tokens.newRefreshToken();
    await this.storeRefreshToken(manager, sessionId, session.createdAt, hash);
    return {
      userId,
      sessionId,
      authenticatedAt: now,
      secondFactorAt: now,
      amr,
      startedAt: session.createdAt,
      refreshToken: token,
      deviceId: session.deviceId,
    };
  }

  /** Expires after REFRESH_TOKEN_TTL_SECONDS, and never after the session's end (SESSION_MAX_SECONDS). */
  async storeRefreshToken(
    manager: EntityManager,
    sessionId: string,
    startedAt: Date,
    tokenHash: Buffer,
  ): Promise<void> {
    const { refreshTokenTtlSeconds, sessionMaxSeconds } = this.config;
    const expiresAt = new Date(
      Math.min(Date.now() + refreshTokenTtlSeconds * 1000, startedAt.getTime() + sessionMaxSeconds * 1000),
    );
    await manager.insert(RefreshToken, { tokenHash, sessionId, expiresAt, usedAt: null });
  }

  /** Revokes a session of this user (logout). Revoking twice is harmless. */
  async revoke(sessionId: string, userId: string): Promise<void> {
    await this.revokeIn(this.dataSource.manager, { id: sessionId, userId }, 'logout');
  }

  /** Reuse detection: a spent refresh token came back, so nobody keeps its session. */
  async revokeForReuse(manager: EntityManager, sessionId: string): Promise<void> {
    await this.revokeIn(manager, { id: sessionId }, 'refresh_reuse');
  }

  /**
   * The user's live sessions, newest first: not ended, within SESSION_MAX_SECONDS, and holding a refresh
   * token that can still be used.
   */
  async live(userId: string): Promise<LiveSession[]> {
    const rows: {
      id: string;
      created_at: Date;
      last_used_at: Date | null;
      ip: string | null;
      user_agent: string | null;
    }[] = await this.dataSource.query(
      `SELECT s.id, s.created_at, s.last_used_at, s.ip, s.user_agent FROM sessions s
          WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.created_at > now() - make_interval(secs => $2::int)
            AND EXISTS (SELECT 1 FROM refresh_tokens r
                         WHERE r.session_id = s.id AND r.used_at IS NULL AND r.expires_at > now())
          ORDER BY s.created_at DESC`,
      [userId, this.config.sessionMaxSeconds],
    );
    return rows.map((r) => ({
      id: r.id,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at ?? r.created_at,
      ip: r.ip,
      userAgent: r.user_agent,
    }));
  }

  /** Ends one of the user's sessions; false when `sessionId` is not one of its live sessions. */
  async end(userId: string, sessionId: string, reason: SessionEndReason): Promise<boolean> {
    const live = await this.live(userId);
    if (!live.some((s) => s.id === sessionId)) return false;
    await this.revokeIn(this.dataSource.manager, { id: sessionId, userId }, reason);
    return true;
  }

  /** Ends every session of the user but `keep` (the caller's); returns how many ended. */
  async endOthers(
    userId: string,
    keep: string | null,
    reason: SessionEndReason,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<number> {
    const result = await manager
      .createQueryBuilder()
      .update(Session)
      .set({ revokedAt: () => 'now()', revokedReason: reason })
      .where('user_id = :userId AND revoked_at IS NULL', { userId })
      .andWhere(keep ? 'id <> :keep' : '1 = 1', { keep })
      .execute();
    return result.affected ?? 0;
  }

  /** The session a refresh token belongs to, if it is one of this user's. */
  async sessionOfRefreshToken(refreshToken: string, userId: string): Promise<string | undefined> {
    const row = await this.dataSource.manager.findOne(RefreshToken, {
      where: { tokenHash: this.tokens.hashRefreshToken(refreshToken), session: { userId } },
      relations: { session: true },
    });
    return row?.sessionId;
  }

  /** Full tokens are only honoured while their session lives (logout and reuse detection end it). */
  isActive(sessionId: string, userId: string): Promise<boolean> {
    return this.dataSource.manager.existsBy(Session, { id: sessionId, userId, revokedAt: IsNull() });
  }

  private async revokeIn(
    manager: EntityManager,
    which: { id: string; userId?: string },
    reason: SessionEndReason,
  ): Promise<void> {
    await manager.update(
      Session,
      { ...which, revokedAt: IsNull() },
      { revokedAt: () => 'now()', revokedReason: reason },
    );
  }
}
