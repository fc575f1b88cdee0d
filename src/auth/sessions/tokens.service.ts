import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { type FullPrincipal, isUuid, type PartialPrincipal } from '../../common/index.js';
import { JwtConfig } from './jwt.config.js';
import { AuthKeys } from '../auth-keys.js';

/** The one signing algorithm; `verify` accepts nothing else (no `none`, no RS/HS confusion). */
export const JWT_ALGORITHM = 'HS256';
/** RFC 9068 access token type; the partial token has its own type and audience. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
export const PARTIAL_TOKEN_TYP = '2fa-challenge+jwt';
/** RFC 8176 authentication method references: a partial token's, and every combination a full one may carry. */
export const PARTIAL_AMR = ['pwd'];
export const FULL_AMR = ['pwd', 'sms', 'mfa'];
/** A login on a remembered device: the password and the device's token, no PIN. */
export const DEVICE_AMR = ['pwd', 'device'];
const FULL_AMRS = [FULL_AMR, DEVICE_AMR, [...DEVICE_AMR, 'sms', 'mfa']];

/** What an access token says about its session. */
export interface AccessClaims {
  userId: string;
  sessionId: string;
  authenticatedAt: Date;
  secondFactorAt: Date;
  amr: string[];
}

interface PartialClaims {
  sub: string;
  jti: string;
  amr: string[];
}
interface FullClaims {
  sub: string;
  sid: string;
  jti: string;
  amr: string[];
  auth_time: number;
  /** When the second factor was last proven (seconds); tokens issued before it existed carry only auth_time. */
  sfa_time?: number;
  exp: number;
}

export class InvalidTokenError extends Error {
  constructor(readonly expired: boolean) {
    super(expired ? 'token expired' : 'token invalid');
  }
}

/**
 * Issues and checks the two kinds of JWT. They differ in signing key, `typ` header and `aud`, so neither
 * can pass for the other. Refresh tokens are opaque strings, stored only as SHA-256: the first of a session
 * is random, each later one is its predecessor's successor (an HMAC with a server key).
 */
@Injectable()
export class TokensService {
  private readonly partialAudience: string;

  constructor(
    private readonly jwt: JwtService,
    private readonly config: JwtConfig,
    private readonly keys: AuthKeys,
  ) {
    this.partialAudience = `${config.audience}:2fa`;
  }

  /** Expires with its login attempt (`expiresAt`): a resend re-issues it without extending it. */
  signPartial(userId: string, attemptId: string, expiresAt: Date): Promise<string> {
    const exp = Math.floor(expiresAt.getTime() / 1000);
    return this.jwt.signAsync(
      { amr: PARTIAL_AMR, exp },
      {
        secret: this.keys.partialToken,
        algorithm: JWT_ALGORITHM,
        header: { alg: JWT_ALGORITHM, typ: PARTIAL_TOKEN_TYP },
        subject: userId,
        jwtid: attemptId,
        audience: this.partialAudience,
        issuer: this.config.issuer,
      },
    );
  }

  signAccess({ userId, sessionId, authenticatedAt, secondFactorAt, amr }: AccessClaims): Promise<string> {
    return this.jwt.signAsync(
      { sid: sessionId, amr, auth_time: seconds(authenticatedAt), sfa_time: seconds(secondFactorAt) },
      {
        secret: this.keys.accessToken,
        algorithm: JWT_ALGORITHM,
        header: { alg: JWT_ALGORITHM, typ: ACCESS_TOKEN_TYP },
        subject: userId,
        jwtid: randomBytes(16).toString('base64url'),
        audience: this.config.audience,
        issuer: this.config.issuer,
        expiresIn: this.config.accessTokenTtlSeconds,
      },
    );
  }

  /** @throws InvalidTokenError */
  async verifyPartial(token: string): Promise<PartialPrincipal> {
    const claims = await this.verify<PartialClaims>(
      token,
      this.keys.partialToken,
      PARTIAL_TOKEN_TYP,
      this.partialAudience,
    );
    if (!isUuid(claims.jti) || !sameList(claims.amr, PARTIAL_AMR)) throw new InvalidTokenError(false);
    return { kind: 'partial', userId: claims.sub, attemptId: claims.jti };
  }

  /** @throws InvalidTokenError */
  async verifyAccess(token: string): Promise<FullPrincipal> {
    const claims = await this.verify<FullClaims>(
      token,
      this.keys.accessToken,
      ACCESS_TOKEN_TYP,
      this.config.audience,
    );
    const secondFactorAt = claims.sfa_time ?? claims.auth_time;
    if (
      !isUuid(claims.sid) ||
      !FULL_AMRS.some((amr) => sameList(claims.amr, amr)) ||
      typeof claims.auth_time !== 'number' ||
      typeof secondFactorAt !== 'number'
    ) {
      throw new InvalidTokenError(false);
    }
    return {
      kind: 'full',
      userId: claims.sub,
      sessionId: claims.sid,
      authTime: claims.auth_time,
      secondFactorAt,
      amr: claims.amr,
      expiresAt: claims.exp,
    };
  }

  /** A new opaque refresh token and the hash to store. */
  newRefreshToken(): { token: string; hash: Buffer } {
    const token = randomBytes(32).toString('base64url');
    return { token, hash: this.hashRefreshToken(token) };
  }

  /**
   * The one token that replaces `token` when it is spent: HMAC-SHA256 under a key derived from JWT_SECRET,
   * as 43 base64url characters like a random token. Deterministic, so a request that repeats a refresh
   * within the grace window gets the same successor (no fork); unpredictable without the key.
   */
  successorRefreshToken(token: string): { token: string; hash: Buffer } {
    const successor = createHmac('sha256', this.keys.refreshSuccessor).update(token).digest('base64url');
    return { token: successor, hash: this.hashRefreshToken(successor) };
  }

  hashRefreshToken(token: string): Buffer {
    return createHash('sha256').update(token).digest();
  }

  private async verify<T extends { sub: string }>(
    token: string,
    key: Buffer,
    typ: string,
    audience: string,
  ): Promise<T> {
    let decoded: { header: { typ?: string }; payload: T };
    try {
      decoded = await this.jwt.verifyAsync(token, {
        secret: key,
        algorithms: [JWT_ALGORITHM],
        audience,
        issuer: this.config.issuer,
        complete: true,
      });
    } catch (error) {
      // jsonwebtoken checks the signature before `exp`, so an expired token was otherwise genuine.
      throw new InvalidTokenError(error instanceof Error && error.name === 'TokenExpiredError');
    }
    if (decoded.header.typ !== typ || !isUuid(decoded.payload.sub)) throw new InvalidTokenError(false);
    return decoded.payload;
  }
}

function seconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}

function sameList(actual: unknown, expected: string[]): boolean {
  return (
    Array.isArray(actual) && actual.length === expected.length && expected.every((v, i) => actual[i] === v)
  );
}
