import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import type { ClientContext } from '../../common/index.js';
import { refreshInvalid } from '../auth-errors.js';
import { JwtConfig } from './jwt.config.js';
import { IssuedSession, SessionsService } from './sessions.service.js';
import { TokensService } from './tokens.service.js';

/**
 * What became of a spent refresh token that was presented again: the `action` of its `refresh_reused`
 * audit event, next to `withinGrace: 'true' | 'false'`.
 * - `successor_returned`: within the grace window, the same successor as the first request got;
 * - `refused`: within the grace window, but its session has ended (or its successor is not on record);
 * - `session_revoked`: after the grace window (or with no window): reuse detection revoked the session.
 */
export type RefreshReuseAction = 'successor_returned' | 'refused' | 'session_revoked';

interface Reuse {
  userId: string;
  withinGrace: boolean;
  action: RefreshReuseAction;
}

interface Rotation {
  issued?: IssuedSession;
  reuse?: Reuse;
}

interface SessionRow {
  session_id: string;
  user_id: string;
  authenticated_at: Date;
  second_factor_at: Date;
  amr: string;
  created_at: Date;
}

const SESSION_COLUMNS = `s.id AS session_id, s.user_id, s.authenticated_at, s.second_factor_at, s.amr, s.created_at`;

/** Spends the token if it is unspent, unexpired and its session lives; one concurrent request wins. */
const SPEND = `
  UPDATE refresh_tokens rt SET used_at = now()
    FROM sessions s
   WHERE rt.token_hash = $1 AND rt.used_at IS NULL AND rt.expires_at > now()
     AND s.id = rt.session_id AND s.revoked_at IS NULL
     AND s.created_at > now() - make_interval(secs => $2::int)
  RETURNING ${SESSION_COLUMNS}`;

/**
 * A spent token, and whether it was spent within the grace window. `clock_timestamp()`, not `now()`: the
 * transaction that spent it may have started after this one (concurrent requests), and with a window of 0
 * every reuse must count as reuse.
 */
const SPENT = `
  SELECT ${SESSION_COLUMNS},
         ($2::int > 0 AND rt.used_at > clock_timestamp() - make_interval(secs => $2::int)) AS within_grace
    FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
   WHERE rt.token_hash = $1 AND rt.used_at IS NOT NULL`;

/** The successor is on record for the same session, and that session still lives. */
const SUCCESSOR_LIVE = `
  SELECT 1 FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
   WHERE rt.token_hash = $1 AND rt.session_id = $2 AND rt.expires_at > now()
     AND s.revoked_at IS NULL AND s.created_at > now() - make_interval(secs => $3::int)`;

/**
 * Refresh-token rotation. Spending a token stores its successor, `TokensService.successorRefreshToken`
 * (an HMAC of the token with a server key), so rotation is idempotent: a request that presents the same
 * token again within REFRESH_REUSE_GRACE_SECONDS of its spending (two tabs racing, a retry after a lost
 * answer) gets the same successor back, and the session never forks; that holds even when the successor
 * has been spent in turn since (a chain of tabs): presenting it is then judged by its own spending time.
 * Later, it is reuse: the session is revoked. Every repeat is audited (`refresh_reused`).
 */
@Injectable()
export class RefreshRotationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tokens: TokensService,
    private readonly sessions: SessionsService,
    private readonly config: JwtConfig,
    private readonly audit: AuditService,
  ) {}

  async rotate(refreshToken: string, client: ClientContext): Promise<IssuedSession> {
    const { issued, reuse } = await this.dataSource.transaction(async (manager): Promise<Rotation> => {
      const [spent] = await rows<SessionRow>(manager, SPEND, [
        this.tokens.hashRefreshToken(refreshToken),
        this.config.sessionMaxSeconds,
      ]);
      if (!spent) return this.presentedAgain(manager, refreshToken);
      await manager.query(`UPDATE sessions SET last_used_at = now() WHERE id = $1`, [spent.session_id]);
      const successor = this.tokens.successorRefreshToken(refreshToken);
      await this.sessions.storeRefreshToken(manager, spent.session_id, spent.created_at, successor.hash);
      return { issued: issuedSession(spent, successor.token) };
    });
    if (reuse) {
      await this.audit.record('refresh_reused', client, reuse.userId, {
        withinGrace: String(reuse.withinGrace),
        action: reuse.action,
      });
    }
    if (!issued) throw refreshInvalid();
    return issued;
  }

  /** The token could not be spent: unknown, expired, its session ended, or spent before (reuse). */
  private async presentedAgain(manager: EntityManager, refreshToken: string): Promise<Rotation> {
    const [spent] = await rows<SessionRow & { within_grace: boolean }>(manager, SPENT, [
      this.tokens.hashRefreshToken(refreshToken),
      this.config.refreshReuseGraceSeconds,
    ]);
    if (!spent) return {};
    const reuse = (action: RefreshReuseAction): Reuse => ({
      userId: spent.user_id,
      withinGrace: spent.within_grace,
      action,
    });
    if (!spent.within_grace) {
      await this.sessions.revokeForReuse(manager, spent.session_id);
      return { reuse: reuse('session_revoked') };
    }
    const successor = this.tokens.successorRefreshToken(refreshToken);
    const [live] = await rows(manager, SUCCESSOR_LIVE, [
      successor.hash,
      spent.session_id,
      this.config.sessionMaxSeconds,
    ]);
    if (!live) return { reuse: reuse('refused') };
    return { issued: issuedSession(spent, successor.token), reuse: reuse('successor_returned') };
  }
}

function issuedSession(row: SessionRow, refreshToken: string): IssuedSession {
  return {
    userId: row.user_id,
    sessionId: row.session_id,
    authenticatedAt: row.authenticated_at,
    secondFactorAt: row.second_factor_at,
    amr: row.amr.split(','),
    startedAt: row.created_at,
    refreshToken,
  };
}

/** The rows of a query; for an UPDATE … RETURNING, TypeORM's driver answers `[rows, count]`. */
async function rows<T>(manager: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const result: unknown = await manager.query(sql, params);
  const list = Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result;
  return list as T[];
}
