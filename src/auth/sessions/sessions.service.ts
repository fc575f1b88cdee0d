import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import type { ClientContext } from '../../common/index.js';
import { refreshInvalid } from '../auth-errors.js';
import { JwtConfig } from './jwt.config.js';
import { RefreshToken } from './refresh-token.entity.js';
import { Session } from './session.entity.js';
import { TokensService } from './tokens.service.js';

export interface IssuedSession {
  userId: string;
  sessionId: string;
  authenticatedAt: Date;
  refreshToken: string;
}

/** Full sessions and their rotating refresh tokens. Only created after the second factor. */
@Injectable()
export class SessionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tokens: TokensService,
    private readonly config: JwtConfig,
    private readonly audit: AuditService,
  ) {}

  /** Called inside the transaction that closes a verified login attempt. */
  async create(userId: string, authenticatedAt: Date, manager: EntityManager): Promise<IssuedSession> {
    const sessionId = randomUUID();
    await manager.insert(Session, {
      id: sessionId,
      userId,
      authenticatedAt,
      revokedAt: null,
      revokedReason: null,
    });
    const refreshToken = await this.issueRefreshToken(sessionId, authenticatedAt, manager);
    return { userId, sessionId, authenticatedAt, refreshToken };
  }

  /**
   * Spends a refresh token and issues its successor, atomically: of two concurrent uses exactly one wins.
   * Presenting a token that was already spent revokes its whole session (reuse detection), unless it was
   * spent less than REFRESH_REUSE_GRACE_SECONDS ago: that is a client racing itself (two tabs refreshing at
   * once), which gets `REFRESH_INVALID` without locking out the request that won.
   */
  async rotate(refreshToken: string, client: ClientContext): Promise<IssuedSession> {
    const hash = this.tokens.hashRefreshToken(refreshToken);
    let reusedBy: string | null | undefined;
    const outcome = await this.dataSource.transaction(async (manager) => {
      const rows: { session_id: string; user_id: string; authenticated_at: Date }[] = await manager
        .query(
          `UPDATE refresh_tokens rt SET used_at = now()
           FROM sessions s
          WHERE rt.token_hash = $1 AND rt.used_at IS NULL AND rt.expires_at > now()
            AND s.id = rt.session_id AND s.revoked_at IS NULL
            AND s.authenticated_at > now() - make_interval(secs => $2::int)
        RETURNING s.id AS session_id, s.user_id, s.authenticated_at`,
          [hash, this.config.sessionMaxSeconds],
        )
        .then((result: [typeof rows, number]) => result[0]);
      const spent = rows[0];
      if (spent) {
        const next = await this.issueRefreshToken(spent.session_id, spent.authenticated_at, manager);
        return {
          userId: spent.user_id,
          sessionId: spent.session_id,
          authenticatedAt: spent.authenticated_at,
          refreshToken: next,
        };
      }
      // Spent longer ago than the grace window (compared on the database's clock, which wrote used_at)?
      const [reused]: { session_id: string; user_id: string }[] = await manager.query(
        `SELECT rt.session_id, s.user_id FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
          WHERE rt.token_hash = $1 AND rt.used_at <= now() - make_interval(secs => $2::int)`,
        [hash, this.config.refreshReuseGraceSeconds],
      );
      if (reused) {
        await this.revokeIn(manager, reused.session_id, 'refresh_reuse');
        reusedBy = reused.user_id;
      }
      return undefined;
    });
    if (reusedBy !== undefined) {
      await this.audit.record('refresh_reused', client, reusedBy, { action: 'session_revoked' });
    }
    if (!outcome) {
      throw refreshInvalid();
    }
    return outcome;
  }

  /** Revokes a session of this user (logout). Revoking twice is harmless. */
  async revoke(sessionId: string, userId: string): Promise<void> {
    await this.dataSource.manager.update(
      Session,
      { id: sessionId, userId, revokedAt: IsNull() },
      {
        revokedAt: () => 'now()',
        revokedReason: 'logout',
      },
    );
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

  /** Expires after REFRESH_TOKEN_TTL_SECONDS, and never after the session's end (SESSION_MAX_SECONDS). */
  private async issueRefreshToken(
    sessionId: string,
    authenticatedAt: Date,
    manager: EntityManager,
  ): Promise<string> {
    const { token, hash } = this.tokens.newRefreshToken();
    const { refreshTokenTtlSeconds, sessionMaxSeconds } = this.config;
    const expiresAt = new Date(
      Math.min(
        Date.now() + refreshTokenTtlSeconds * 1000,
        authenticatedAt.getTime() + sessionMaxSeconds * 1000,
      ),
    );
    await manager.insert(RefreshToken, { tokenHash: hash, sessionId, expiresAt, usedAt: null });
    return token;
  }

  private async revokeIn(
    manager: EntityManager,
    sessionId: string,
    reason: 'logout' | 'refresh_reuse',
  ): Promise<void> {
    await manager.update(
      Session,
      { id: sessionId, revokedAt: IsNull() },
      { revokedAt: () => 'now()', revokedReason: reason },
    );
  }
}
