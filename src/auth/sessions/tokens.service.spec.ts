import { createHash, createHmac, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { JwtService } from '@nestjs/jwt';
import { loadConfig } from '../../app-config.js';
import { ServerKeys } from '../../common/index.js';
import { AuthKeys } from '../auth-keys.js';
import {
  ACCESS_TOKEN_TYP,
  FULL_AMR,
  InvalidTokenError,
  PARTIAL_TOKEN_TYP,
  TokensService,
} from './tokens.service.js';

const SECRET = 'tokens-service-spec-secret-0123456789abcdef';

/** The claims of an access token for a PIN-verified session authenticated at `at`. */
const accessClaims = (userId: string, sessionId: string, at: Date) => ({
  userId,
  sessionId,
  authenticatedAt: at,
  secondFactorAt: at,
  amr: FULL_AMR,
});

function tokensService(env: Record<string, string> = {}): TokensService {
  const config = loadConfig({ JWT_SECRET: SECRET, ...env });
  return new TokensService(new JwtService(), config.jwt, new AuthKeys(new ServerKeys(config.jwt)));
}

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000);

function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** Flips one character of the signature (keeping it valid base64url). */
function tamperSignature(token: string): string {
  const [header, payload, signature] = token.split('.');
  const first = signature[0] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${first}${signature.slice(1)}`;
}

async function invalidTokenError(promise: Promise<unknown>): Promise<InvalidTokenError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return error as InvalidTokenError;
}

describe(TokensService.name, () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('partial tokens', () => {
    it('round-trips user and attempt', async () => {
      const tokens = tokensService();
      const userId = randomUUID();
      const attemptId = randomUUID();
      const token = await tokens.signPartial(userId, attemptId, inMinutes(5));
      await expect(tokens.verifyPartial(token)).resolves.toEqual({ kind: 'partial', userId, attemptId });
    });

    it('carries its own typ, audience and expiry', async () => {
      const tokens = tokensService({ JWT_AUDIENCE: 'api' });
      const expiresAt = inMinutes(5);
      const token = await tokens.signPartial(randomUUID(), randomUUID(), expiresAt);
      expect(decodePart(token, 0)).toMatchObject({ alg: 'HS256', typ: PARTIAL_TOKEN_TYP });
      expect(decodePart(token, 1)).toMatchObject({
        aud: 'api:2fa',
        amr: ['pwd'],
        exp: Math.floor(expiresAt.getTime() / 1000),
      });
    });

    it('fails verifyAccess', async () => {
      const tokens = tokensService();
      const token = await tokens.signPartial(randomUUID(), randomUUID(), inMinutes(5));
      const error = await invalidTokenError(tokens.verifyAccess(token));
      expect(error.expired).toBe(false);
    });

    it('is expired after its login attempt expires', async () => {
      const tokens = tokensService();
      const token = await tokens.signPartial(randomUUID(), randomUUID(), inMinutes(-1));
      const error = await invalidTokenError(tokens.verifyPartial(token));
      expect(error.expired).toBe(true);
    });

    it('with a tampered signature is invalid, not expired', async () => {
      const tokens = tokensService();
      const token = await tokens.signPartial(randomUUID(), randomUUID(), inMinutes(5));
      const error = await invalidTokenError(tokens.verifyPartial(tamperSignature(token)));
      expect(error.expired).toBe(false);
    });

    it('expired and tampered is invalid, not expired (the signature is checked first)', async () => {
      const tokens = tokensService();
      const token = await tokens.signPartial(randomUUID(), randomUUID(), inMinutes(-1));
      const error = await invalidTokenError(tokens.verifyPartial(tamperSignature(token)));
      expect(error.expired).toBe(false);
    });
  });

  describe('access tokens', () => {
    it('round-trips user, session, auth time and amr', async () => {
      const tokens = tokensService();
      const userId = randomUUID();
      const sessionId = randomUUID();
      const authTime = new Date('2030-01-02T03:04:05.678Z');
      const token = await tokens.signAccess(accessClaims(userId, sessionId, authTime));
      await expect(tokens.verifyAccess(token)).resolves.toEqual({
        kind: 'full',
        userId,
        sessionId,
        authTime: Math.floor(authTime.getTime() / 1000),
        secondFactorAt: Math.floor(authTime.getTime() / 1000),
        amr: FULL_AMR,
        expiresAt: expect.any(Number),
      });
    });

    it('carries typ at+jwt, the audience and the configured lifetime', async () => {
      const tokens = tokensService({ ACCESS_TOKEN_TTL_SECONDS: '900' });
      const token = await tokens.signAccess(accessClaims(randomUUID(), randomUUID(), new Date()));
      expect(decodePart(token, 0)).toMatchObject({ alg: 'HS256', typ: ACCESS_TOKEN_TYP });
      const payload = decodePart(token, 1);
      expect(payload).toMatchObject({ aud: 'api', iss: 'xoxzo-2fa-auth' });
      expect((payload.exp as number) - (payload.iat as number)).toBe(900);
    });

    it('fails verifyPartial', async () => {
      const tokens = tokensService();
      const token = await tokens.signAccess(accessClaims(randomUUID(), randomUUID(), new Date()));
      const error = await invalidTokenError(tokens.verifyPartial(token));
      expect(error.expired).toBe(false);
    });

    it('is expired after ACCESS_TOKEN_TTL_SECONDS', async () => {
      const tokens = tokensService({ ACCESS_TOKEN_TTL_SECONDS: '900' });
      const token = await tokens.signAccess(accessClaims(randomUUID(), randomUUID(), new Date()));
      const now = Date.now();
      jest.spyOn(Date, 'now').mockReturnValue(now + 901_000);
      const error = await invalidTokenError(tokens.verifyAccess(token));
      expect(error.expired).toBe(true);
    });

    it('is still valid just before it expires', async () => {
      const tokens = tokensService({ ACCESS_TOKEN_TTL_SECONDS: '900' });
      const token = await tokens.signAccess(accessClaims(randomUUID(), randomUUID(), new Date()));
      const now = Date.now();
      jest.spyOn(Date, 'now').mockReturnValue(now + 880_000);
      await expect(tokens.verifyAccess(token)).resolves.toMatchObject({ kind: 'full' });
    });

    it('with a tampered signature is invalid, not expired', async () => {
      const tokens = tokensService();
      const token = await tokens.signAccess(accessClaims(randomUUID(), randomUUID(), new Date()));
      const error = await invalidTokenError(tokens.verifyAccess(tamperSignature(token)));
      expect(error.expired).toBe(false);
    });

    it('with a modified payload is invalid', async () => {
      const tokens = tokensService();
      const token = await tokens.signAccess(accessClaims(randomUUID(), randomUUID(), new Date()));
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      const forged = Buffer.from(JSON.stringify({ ...claims, sub: randomUUID() })).toString('base64url');
      await expect(tokens.verifyAccess(`${header}.${forged}.${signature}`)).rejects.toBeInstanceOf(
        InvalidTokenError,
      );
    });

    it('with alg "none" is refused', async () => {
      const tokens = tokensService();
      const token = await tokens.signAccess(accessClaims(randomUUID(), randomUUID(), new Date()));
      const payload = token.split('.')[1];
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: ACCESS_TOKEN_TYP })).toString(
        'base64url',
      );
      await expect(tokens.verifyAccess(`${header}.${payload}.`)).rejects.toBeInstanceOf(InvalidTokenError);
    });

    it('signed with the raw JWT_SECRET (not the derived key) is refused', async () => {
      const tokens = tokensService();
      const raw = await new JwtService().signAsync(
        { sid: randomUUID(), amr: FULL_AMR, auth_time: Math.floor(Date.now() / 1000) },
        {
          secret: SECRET,
          algorithm: 'HS256',
          header: { alg: 'HS256', typ: ACCESS_TOKEN_TYP },
          subject: randomUUID(),
          audience: 'api',
          issuer: 'xoxzo-2fa-auth',
          expiresIn: 900,
        },
      );
      await expect(tokens.verifyAccess(raw)).rejects.toBeInstanceOf(InvalidTokenError);
    });
  });

  describe('keys and claims', () => {
    it('a token from another JWT_SECRET fails', async () => {
      const other = tokensService({ JWT_SECRET: 'a-completely-different-secret-9876543210' });
      const tokens = tokensService();
      const access = await other.signAccess(accessClaims(randomUUID(), randomUUID(), new Date()));
      const partial = await other.signPartial(randomUUID(), randomUUID(), inMinutes(5));
      await expect(tokens.verifyAccess(access)).rejects.toBeInstanceOf(InvalidTokenError);
      await expect(tokens.verifyPartial(partial)).rejects.toBeInstanceOf(InvalidTokenError);
    });

    it('a token for another issuer or audience fails', async () => {
      const tokens = tokensService();
      const otherIssuer = tokensService({ JWT_ISSUER: 'someone-else' });
      const otherAudience = tokensService({ JWT_AUDIENCE: 'other-api' });
      const a = await otherIssuer.signAccess(accessClaims(randomUUID(), randomUUID(), new Date()));
      const b = await otherAudience.signAccess(accessClaims(randomUUID(), randomUUID(), new Date()));
      await expect(tokens.verifyAccess(a)).rejects.toBeInstanceOf(InvalidTokenError);
      await expect(tokens.verifyAccess(b)).rejects.toBeInstanceOf(InvalidTokenError);
    });

    it('garbage is invalid, not expired', async () => {
      const tokens = tokensService();
      const error = await invalidTokenError(tokens.verifyAccess('not.a.jwt'));
      expect(error.expired).toBe(false);
    });
  });

  describe('refresh tokens', () => {
    it('are 43 base64url characters (32 random bytes) and unique', () => {
      const tokens = tokensService();
      const issued = Array.from({ length: 200 }, () => tokens.newRefreshToken().token);
      for (const token of issued) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(new Set(issued).size).toBe(issued.length);
    });

    it('come with the hash to store: SHA-256, 32 bytes, deterministic', () => {
      const tokens = tokensService();
      const { token, hash } = tokens.newRefreshToken();
      expect(hash).toHaveLength(32);
      expect(tokens.hashRefreshToken(token).equals(hash)).toBe(true);
      expect(
        tokensService({ JWT_SECRET: 'a-completely-different-secret-9876543210' }).hashRefreshToken(token),
      ).toEqual(hash);
      expect(tokens.hashRefreshToken(`${token}x`).equals(hash)).toBe(false);
    });

    describe('successors (idempotent rotation)', () => {
      const OTHER_SECRET = 'a-completely-different-secret-9876543210';

      it('are 43 base64url characters, with their SHA-256 as the hash to store', () => {
        const tokens = tokensService();
        const { token } = tokens.newRefreshToken();
        const successor = tokens.successorRefreshToken(token);
        expect(successor.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(successor.token).not.toBe(token);
        expect(successor.hash.equals(tokens.hashRefreshToken(successor.token))).toBe(true);
      });

      it('are deterministic under one JWT_SECRET (every duplicate gets the same one), distinct per token', () => {
        const { token } = tokensService().newRefreshToken();
        const a = tokensService().successorRefreshToken(token);
        const b = tokensService().successorRefreshToken(token);
        expect(b.token).toBe(a.token);
        const chain = [token, a.token];
        for (let i = 0; i < 20; i++) chain.push(tokensService().successorRefreshToken(chain.at(-1)!).token);
        expect(new Set(chain).size).toBe(chain.length);
        expect(tokensService().successorRefreshToken(`${token}x`).token).not.toBe(a.token);
      });

      it('cannot be predicted without the server key: another JWT_SECRET, or keys anyone has, give another', () => {
        const tokens = tokensService();
        const { token } = tokens.newRefreshToken();
        const successor = tokens.successorRefreshToken(token).token;
        expect(tokensService({ JWT_SECRET: OTHER_SECRET }).successorRefreshToken(token).token).not.toBe(
          successor,
        );
        // Not a plain hash of the token, nor an HMAC with JWT_SECRET itself or with another purpose's key.
        const keys = new AuthKeys(new ServerKeys(loadConfig({ JWT_SECRET: SECRET }).jwt));
        const guesses = [
          createHash('sha256').update(token).digest('base64url'),
          ...[SECRET, keys.accessToken, keys.partialToken, keys.pinHmac].map((key) =>
            createHmac('sha256', key).update(token).digest('base64url'),
          ),
        ];
        expect(guesses).not.toContain(successor);
        expect(createHmac('sha256', keys.refreshSuccessor).update(token).digest('base64url')).toBe(successor);
      });
    });
  });
});
