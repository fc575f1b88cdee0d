import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JwtService } from '@nestjs/jwt';
import { AuthKeys } from '../src/auth/auth-keys.js';
import { claimsOf, me, refresh } from './support/auth-api.js';
import { count, sessionsOf, sha256 } from './support/db.js';
import { decodeJwt, hmacJwt, JwtPart, unsignedJwt } from './support/jwt-forge.js';
import {
  newIdentity,
  registerAndVerify,
  startTestApp,
  TEST_JWT_SECRET,
  TestApp,
} from './support/test-app.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FULL_AMR = ['pwd', 'sms', 'mfa'];
const ACCESS_HEADER = { alg: 'HS256', typ: 'at+jwt' };

interface SessionTokens {
  accessToken: string;
  refreshToken: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The details of a user's `refresh_reused` audit events, oldest first. */
async function reuseEvents(t: TestApp, userId: string): Promise<Record<string, string>[]> {
  const { rows } = await t.db.query(
    `SELECT details FROM auth_events WHERE user_id = $1 AND type = 'refresh_reused' ORDER BY created_at, id`,
    [userId],
  );
  return rows.map((r) => r.details as Record<string, string>);
}

describe('tokens: partial vs full, forgeries, refresh rotation, logout', () => {
  let t: TestApp;
  let keys: AuthKeys;
  let jwt: JwtService;

  beforeAll(async () => {
    // Strict reuse detection (no grace window) for this file; the grace window has its own describe below.
    t = await startTestApp({ env: { REFRESH_REUSE_GRACE_SECONDS: '0' } });
    keys = t.app.get(AuthKeys);
    jwt = t.app.get(JwtService);
  });
  afterAll(async () => {
    await t.close();
  });

  /** A second full session for an existing user: password login, then the PIN. */
  async function loginAndVerify(identity: { email: string; password: string; phone: string }) {
    const login = await t.post('/auth/login', { email: identity.email, password: identity.password });
    expect(login.status).toBe(200);
    const verified = await t.post(
      '/auth/2fa/verify',
      { pin: t.xoxzo.lastPinFor(identity.phone) },
      login.body.accessToken,
    );
    expect(verified.status).toBe(200);
    return verified.body as SessionTokens;
  }

  /** A partial token whose login attempt is still open (password done, PIN not entered). */
  async function openPartialToken(): Promise<string> {
    const registered = await t.post('/auth/register', newIdentity());
    expect(registered.status).toBe(201);
    return registered.body.accessToken as string;
  }

  async function expectUnauthenticated(token: string | undefined, authorization?: string) {
    const res = await t.request('GET', '/users/me', {
      token,
      headers: authorization === undefined ? {} : { authorization },
    });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  }

  describe('bearer token presence and shape', () => {
    it('refuses /users/me without a token: 401 UNAUTHENTICATED with a Bearer challenge', async () => {
      const res = await t.get('/users/me');
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        statusCode: 401,
        code: 'UNAUTHENTICATED',
        message: expect.any(String),
      });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    });

    it.each([
      ['Basic x'],
      ['Basic dXNlcjpwYXNz'],
      ['Bearer'],
      ['Bearer '],
      ['Bearer abc'],
      ['Bearer a.b'],
      ['Bearer a.b.c.d'],
      ['Token a.b.c'],
      ['Bearer a.b.c extra'],
      ['Bearera.b.c'],
    ])('refuses a malformed Authorization header %p with 401 UNAUTHENTICATED', async (authorization) => {
      await expectUnauthenticated(undefined, authorization);
    });
  });

  describe('partial and full tokens are not interchangeable', () => {
    it('answers a partial token on GET /users/me with 401 SECOND_FACTOR_REQUIRED (RFC 9470 challenge)', async () => {
      const partial = await openPartialToken();
      const res = await me(t, partial);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('SECOND_FACTOR_REQUIRED');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(res.headers.get('www-authenticate')).toContain('error="insufficient_user_authentication"');
    });

    it('answers a partial token on POST /auth/logout with 401 SECOND_FACTOR_REQUIRED', async () => {
      const partial = await openPartialToken();
      const res = await t.post('/auth/logout', {}, partial);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('SECOND_FACTOR_REQUIRED');
      expect(res.headers.get('www-authenticate')).toContain('error="insufficient_user_authentication"');
    });

    it('refuses a full token on POST /auth/2fa/verify and /auth/2fa/resend with 401 UNAUTHENTICATED', async () => {
      const { session } = await registerAndVerify(t);
      const verify = await t.post('/auth/2fa/verify', { pin: '123456' }, session.accessToken);
      expect(verify.status).toBe(401);
      expect(verify.body.code).toBe('UNAUTHENTICATED');
      const resend = await t.post('/auth/2fa/resend', {}, session.accessToken);
      expect(resend.status).toBe(401);
      expect(resend.body.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('forged and out-of-date tokens are refused on /users/me', () => {
    let real: { header: JwtPart; payload: JwtPart };
    let partial: { header: JwtPart; payload: JwtPart };
    let session: SessionTokens;

    beforeAll(async () => {
      const user = await registerAndVerify(t);
      session = user.session;
      real = decodeJwt(session.accessToken);
      // A partial token of the same user whose attempt is still open.
      const login = await t.post('/auth/login', {
        email: user.identity.email,
        password: user.identity.password,
      });
      expect(login.status).toBe(200);
      partial = decodeJwt(login.body.accessToken);
    });

    /** Signs like the app does (jsonwebtoken through Nest's JwtService), with the real derived access key. */
    const signAccess = (payload: JwtPart) =>
      jwt.sign(payload, { secret: keys.accessToken, algorithm: 'HS256', header: ACCESS_HEADER });

    it('control: the real token works, and so does its payload re-signed by hand with the access key', async () => {
      expect((await me(t, session.accessToken)).status).toBe(200);
      const resigned = hmacJwt(ACCESS_HEADER, real.payload, keys.accessToken);
      expect(resigned).toBe(session.accessToken); // the hand-made signature is byte-for-byte the app's
      expect((await me(t, resigned)).status).toBe(200);
      const now = nowSeconds();
      const fresh = signAccess({ ...real.payload, iat: now, exp: now + 60, jti: randomUUID() });
      expect((await me(t, fresh)).status).toBe(200);
    });

    it('refuses alg "none" (unsigned) with a real user’s claims', async () => {
      await expectUnauthenticated(unsignedJwt(real.payload, { alg: 'none', typ: 'at+jwt' }));
      await expectUnauthenticated(unsignedJwt(real.payload, { alg: 'none' }));
      // Same, with the real signature kept after an alg:none header.
      const [, body, signature] = session.accessToken.split('.');
      const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
      await expectUnauthenticated(`${noneHeader}.${body}.${signature}`);
    });

    it('refuses a token signed with the wrong secret, or with JWT_SECRET itself instead of the derived key', async () => {
      await expectUnauthenticated(
        hmacJwt(ACCESS_HEADER, real.payload, 'not-the-secret-0123456789abcdef0123'),
      );
      await expectUnauthenticated(hmacJwt(ACCESS_HEADER, real.payload, TEST_JWT_SECRET));
      await expectUnauthenticated(hmacJwt(ACCESS_HEADER, real.payload, keys.partialToken));
      await expectUnauthenticated(hmacJwt(ACCESS_HEADER, real.payload, keys.pinHmac));
    });

    it('refuses an RS256 header over an HMAC signature made with the access key (algorithm pinned)', async () => {
      await expectUnauthenticated(hmacJwt({ alg: 'RS256', typ: 'at+jwt' }, real.payload, keys.accessToken));
    });

    it('refuses HS512 (and HS384) even with the right key', async () => {
      await expectUnauthenticated(
        hmacJwt({ alg: 'HS512', typ: 'at+jwt' }, real.payload, keys.accessToken, 'sha512'),
      );
      await expectUnauthenticated(
        hmacJwt({ alg: 'HS384', typ: 'at+jwt' }, real.payload, keys.accessToken, 'sha384'),
      );
    });

    it('refuses an expired full token signed with the real key', async () => {
      const now = nowSeconds();
      await expectUnauthenticated(signAccess({ ...real.payload, iat: now - 1000, exp: now - 100 }));
    });

    it('refuses a not-yet-valid full token (nbf in the future)', async () => {
      const now = nowSeconds();
      await expectUnauthenticated(signAccess({ ...real.payload, iat: now, exp: now + 900, nbf: now + 600 }));
    });

    describe('a partial token relabelled as full', () => {
      /** Everything a full token has, on top of the partial token's claims. */
      const upgraded = (aud: string): JwtPart => ({
        ...partial.payload,
        aud,
        amr: FULL_AMR,
        sid: real.payload.sid,
        auth_time: real.payload.auth_time,
      });

      it('refuses it re-signed with the PARTIAL key (typ at+jwt, aud api, full amr)', async () => {
        await expectUnauthenticated(hmacJwt(ACCESS_HEADER, upgraded('api'), keys.partialToken));
      });

      it('refuses it re-signed with the ACCESS key but still aud "api:2fa"', async () => {
        await expectUnauthenticated(hmacJwt(ACCESS_HEADER, upgraded('api:2fa'), keys.accessToken));
      });

      it('refuses it re-signed with the ACCESS key but still typ 2fa-challenge+jwt', async () => {
        await expectUnauthenticated(
          hmacJwt({ alg: 'HS256', typ: '2fa-challenge+jwt' }, upgraded('api'), keys.accessToken),
        );
      });

      it('refuses it with the ACCESS key and no typ at all', async () => {
        await expectUnauthenticated(hmacJwt({ alg: 'HS256' }, upgraded('api'), keys.accessToken));
      });
    });

    it('refuses a well-signed full token whose sid names no session', async () => {
      await expectUnauthenticated(signAccess({ ...real.payload, sid: randomUUID() }));
    });

    it('refuses a well-signed full token whose sid is another user’s session', async () => {
      const other = decodeJwt((await registerAndVerify(t)).session.accessToken);
      await expectUnauthenticated(signAccess({ ...real.payload, sid: other.payload.sid }));
    });

    it('refuses a well-signed full token whose amr is cut down to ["pwd"] (or missing)', async () => {
      await expectUnauthenticated(signAccess({ ...real.payload, amr: ['pwd'] }));
      const { amr: _amr, ...withoutAmr } = real.payload;
      await expectUnauthenticated(signAccess(withoutAmr));
    });

    it('refuses a well-signed full token without auth_time or with a foreign issuer', async () => {
      const { auth_time: _authTime, ...withoutAuthTime } = real.payload;
      await expectUnauthenticated(signAccess(withoutAuthTime));
      await expectUnauthenticated(signAccess({ ...real.payload, iss: 'someone-else' }));
    });
  });

  describe('refresh tokens', () => {
    it('rotates: a new refresh token each time, and the spent one is then refused (REFRESH_INVALID)', async () => {
      const { session } = await registerAndVerify(t);
      const first = await refresh(t, session.refreshToken);
      expect(first.status).toBe(200);
      expect(first.body.refreshToken).toEqual(expect.any(String));
      expect(first.body.refreshToken).not.toBe(session.refreshToken);
      expect(first.body.accessToken).not.toBe(session.accessToken);

      const again = await refresh(t, session.refreshToken);
      expect(again.status).toBe(401);
      expect(again.body.code).toBe('REFRESH_INVALID');
    });

    it('detects reuse: replaying a rotated token revokes the whole session (newest refresh and access too)', async () => {
      const { session } = await registerAndVerify(t);
      const sid = decodeJwt(session.accessToken).payload.sid as string;
      const rotated = await refresh(t, session.refreshToken);
      expect(rotated.status).toBe(200);
      expect((await me(t, rotated.body.accessToken)).status).toBe(200);

      const replay = await refresh(t, session.refreshToken);
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('REFRESH_INVALID');

      const newest = await refresh(t, rotated.body.refreshToken);
      expect(newest.status).toBe(401);
      expect(newest.body.code).toBe('REFRESH_INVALID');
      const access = await me(t, rotated.body.accessToken);
      expect(access.status).toBe(401);
      expect(access.body.code).toBe('UNAUTHENTICATED');
      const { rows } = await t.db.query('SELECT revoked_reason FROM sessions WHERE id = $1', [sid]);
      expect(rows).toEqual([{ revoked_reason: 'refresh_reuse' }]);
      // Audited once per reuse: the replay (and the newest token, refused because its session is gone, is not
      // a reuse at all).
      expect(await reuseEvents(t, claimsOf(session.accessToken).userId)).toEqual([
        { withinGrace: 'false', action: 'session_revoked' },
      ]);
    });

    it('refuses an unknown random token with REFRESH_INVALID and revokes nothing', async () => {
      const { session } = await registerAndVerify(t);
      const sid = decodeJwt(session.accessToken).payload.sid as string;
      const unknown = await refresh(t, randomBytes(32).toString('base64url'));
      expect(unknown.status).toBe(401);
      expect(unknown.body.code).toBe('REFRESH_INVALID');

      expect((await me(t, session.accessToken)).status).toBe(200);
      const { rows } = await t.db.query('SELECT revoked_at FROM sessions WHERE id = $1', [sid]);
      expect(rows).toEqual([{ revoked_at: null }]);
      const real = await refresh(t, session.refreshToken);
      expect(real.status).toBe(200);
    });

    it('refuses an expired refresh token with REFRESH_INVALID', async () => {
      const { session } = await registerAndVerify(t);
      const moved = await t.db.query(
        `UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1`,
        [sha256(session.refreshToken)],
      );
      expect(moved.rowCount).toBe(1);
      const res = await refresh(t, session.refreshToken);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('REFRESH_INVALID');
    });

    it('stores refresh tokens only as 32-byte SHA-256 hashes, never the token text', async () => {
      const { session } = await registerAndVerify(t);
      const sid = decodeJwt(session.accessToken).payload.sid as string;
      const rotated = await refresh(t, session.refreshToken);
      expect(rotated.status).toBe(200);

      const { rows } = await t.db.query<{ token_hash: Buffer }>(
        'SELECT token_hash FROM refresh_tokens WHERE session_id = $1',
        [sid],
      );
      expect(rows).toHaveLength(2);
      for (const { token_hash } of rows) {
        expect(Buffer.isBuffer(token_hash)).toBe(true);
        expect(token_hash).toHaveLength(32);
        for (const token of [session.refreshToken, rotated.body.refreshToken as string]) {
          expect(token_hash.equals(Buffer.from(token))).toBe(false);
          expect(token_hash.toString('utf8')).not.toContain(token);
        }
      }
      const hashes = rows.map((r) => r.token_hash.toString('hex')).sort();
      expect(hashes).toEqual(
        [sha256(session.refreshToken), sha256(rotated.body.refreshToken)]
          .map((h) => h.toString('hex'))
          .sort(),
      );
      // Nothing anywhere in the table holds the token text.
      const text = await t.db.query(
        `SELECT count(*)::int AS n FROM refresh_tokens WHERE position(convert_to($1, 'UTF8') in token_hash) > 0`,
        [rotated.body.refreshToken],
      );
      expect(text.rows[0].n).toBe(0);
    });

    it('never downgrades: the refreshed access token keeps the full amr, the sid and the auth_time', async () => {
      const { session } = await registerAndVerify(t);
      const before = decodeJwt(session.accessToken);
      const refreshed = await refresh(t, session.refreshToken);
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.authLevel).toBe('full');
      const after = decodeJwt(refreshed.body.accessToken);
      expect(after.header).toEqual(ACCESS_HEADER);
      expect(after.payload.amr).toEqual(FULL_AMR);
      expect(after.payload.sid).toBe(before.payload.sid);
      expect(after.payload.auth_time).toBe(before.payload.auth_time);
      expect(after.payload.sub).toBe(before.payload.sub);
      expect((await me(t, refreshed.body.accessToken)).status).toBe(200);
    });

    it('without a grace window, a reuse revokes even when the spending looks simultaneous or later', async () => {
      // A concurrent request whose transaction began before the winner's sees a `used_at` after its own
      // `now()`; a database clock step does the same. With no window that is reuse all the same.
      const { session } = await registerAndVerify(t);
      const sid = decodeJwt(session.accessToken).payload.sid as string;
      expect((await refresh(t, session.refreshToken)).status).toBe(200);
      await t.db.query(
        `UPDATE refresh_tokens SET used_at = now() + interval '2 seconds' WHERE token_hash = $1`,
        [sha256(session.refreshToken)],
      );
      const replay = await refresh(t, session.refreshToken);
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('REFRESH_INVALID');
      const { rows } = await t.db.query('SELECT revoked_reason FROM sessions WHERE id = $1', [sid]);
      expect(rows).toEqual([{ revoked_reason: 'refresh_reuse' }]);
      expect(await reuseEvents(t, claimsOf(session.accessToken).userId)).toEqual([
        { withinGrace: 'false', action: 'session_revoked' },
      ]);
    });

    it('without a grace window (REFRESH_REUSE_GRACE_SECONDS=0), parallel refreshes count as reuse', async () => {
      const { session } = await registerAndVerify(t);
      const sid = decodeJwt(session.accessToken).payload.sid as string;
      const results = await Promise.all(Array.from({ length: 5 }, () => refresh(t, session.refreshToken)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      for (const loser of results.filter((r) => r.status !== 200)) {
        expect(loser.status).toBe(401);
        expect(loser.body.code).toBe('REFRESH_INVALID');
      }
      const { rows } = await t.db.query('SELECT revoked_reason FROM sessions WHERE id = $1', [sid]);
      expect(rows).toEqual([{ revoked_reason: 'refresh_reuse' }]);
      expect(await reuseEvents(t, claimsOf(session.accessToken).userId)).toEqual(
        Array.from({ length: 4 }, () => ({ withinGrace: 'false', action: 'session_revoked' })),
      );
    });
  });

  describe('absolute session lifetime (SESSION_MAX_SECONDS)', () => {
    it('refuses to refresh a session older than SESSION_MAX_SECONDS, however recently it was refreshed', async () => {
      const { session } = await registerAndVerify(t);
      const sid = decodeJwt(session.accessToken).payload.sid as string;
      const refreshed = await refresh(t, session.refreshToken);
      expect(refreshed.status).toBe(200);
      // The default is 90 days: move the second factor 91 days back.
      await t.db.query(
        `UPDATE sessions SET created_at = now() - interval '91 days', authenticated_at = now() - interval '91 days' WHERE id = $1`,
        [sid],
      );
      const late = await refresh(t, refreshed.body.refreshToken);
      expect(late.status).toBe(401);
      expect(late.body.code).toBe('REFRESH_INVALID');
    });

    it('never issues a refresh token that outlives its session', async () => {
      const { session } = await registerAndVerify(t);
      const sid = decodeJwt(session.accessToken).payload.sid as string;
      await t.db.query(
        `UPDATE sessions SET created_at = now() - interval '89 days', authenticated_at = now() - interval '89 days' WHERE id = $1`,
        [sid],
      );
      const refreshed = await refresh(t, session.refreshToken);
      expect(refreshed.status).toBe(200);
      const { rows } = await t.db.query(
        `SELECT extract(epoch FROM rt.expires_at - (s.created_at + interval '90 days'))::int AS over
           FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
          WHERE rt.token_hash = $1`,
        [sha256(refreshed.body.refreshToken)],
      );
      expect(rows[0].over).toBeLessThanOrEqual(0);
    });
  });

  describe('refresh reuse grace window (default 5 s)', () => {
    let g: TestApp;
    beforeAll(async () => {
      g = await startTestApp();
    });
    afterAll(async () => {
      await g.close();
    });

    const sidOf = (accessToken: string) => decodeJwt(accessToken).payload.sid as string;
    const revocationOf = async (sid: string): Promise<string | null> => {
      const { rows } = await g.db.query<{ revoked_reason: string | null }>(
        'SELECT revoked_reason FROM sessions WHERE id = $1',
        [sid],
      );
      return rows[0].revoked_reason;
    };

    it('gives all of 5 parallel refreshes the same successor, in one session (no fork), and the successor refreshes on', async () => {
      const { session } = await registerAndVerify(g);
      const sid = sidOf(session.accessToken);
      const results = await Promise.all(Array.from({ length: 5 }, () => refresh(g, session.refreshToken)));
      for (const result of results) {
        expect(result.status).toBe(200);
        expect(result.body).toEqual({
          accessToken: expect.any(String),
          refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
          tokenType: 'Bearer',
          expiresIn: 900,
          authLevel: 'full',
        });
        expect(sidOf(result.body.accessToken)).toBe(sid);
        expect((await me(g, result.body.accessToken)).status).toBe(200);
      }
      const successors = new Set(results.map((r) => r.body.refreshToken as string));
      expect(successors.size).toBe(1);
      const [successor] = successors;
      expect(successor).not.toBe(session.refreshToken);
      // One session, and one successor row next to the spent token: nothing forked.
      const { userId } = claimsOf(session.accessToken);
      expect(await sessionsOf(g, userId)).toBe(1);
      expect(await count(g, 'refresh_tokens WHERE session_id = $1', [sid])).toBe(2);
      expect(await revocationOf(sid)).toBeNull();

      const next = await refresh(g, successor);
      expect(next.status).toBe(200);
      expect(next.body.refreshToken).not.toBe(successor);
      expect((await me(g, next.body.accessToken)).status).toBe(200);
      expect(await revocationOf(sid)).toBeNull();
    });

    it('audits every duplicate inside the window: refresh_reused {withinGrace: "true", action: "successor_returned"}', async () => {
      const { session } = await registerAndVerify(g);
      const { userId } = claimsOf(session.accessToken);
      const first = await refresh(g, session.refreshToken);
      expect(first.status).toBe(200);
      expect(await reuseEvents(g, userId)).toEqual([]); // a first use is not reuse
      for (let i = 0; i < 3; i++) {
        const duplicate = await refresh(g, session.refreshToken);
        expect(duplicate.status).toBe(200);
        expect(duplicate.body.refreshToken).toBe(first.body.refreshToken);
        expect(duplicate.body.accessToken).not.toBe(first.body.accessToken); // a fresh access token each time
      }
      expect(await reuseEvents(g, userId)).toEqual(
        Array.from({ length: 3 }, () => ({ withinGrace: 'true', action: 'successor_returned' })),
      );
    });

    it('keeps a chain of tabs working: the spent token still gets its successor after that one was spent too', async () => {
      const { session } = await registerAndVerify(g);
      const sid = sidOf(session.accessToken);
      const s1 = await refresh(g, session.refreshToken);
      const s2 = await refresh(g, s1.body.refreshToken);
      expect([s1.status, s2.status]).toEqual([200, 200]);
      const lagging = await refresh(g, session.refreshToken);
      expect(lagging.status).toBe(200);
      expect(lagging.body.refreshToken).toBe(s1.body.refreshToken);
      const caughtUp = await refresh(g, lagging.body.refreshToken);
      expect(caughtUp.status).toBe(200);
      expect(caughtUp.body.refreshToken).toBe(s2.body.refreshToken);
      expect(await count(g, 'refresh_tokens WHERE session_id = $1', [sid])).toBe(3);
      expect(await revocationOf(sid)).toBeNull();
    });

    it('refuses a duplicate inside the window once the session has ended (logout, SESSION_MAX_SECONDS), audited', async () => {
      const loggedOut = (await registerAndVerify(g)).session;
      const rotated = await refresh(g, loggedOut.refreshToken);
      expect(rotated.status).toBe(200);
      expect((await g.post('/auth/logout', {}, rotated.body.accessToken)).status).toBe(204);
      expect((await refresh(g, loggedOut.refreshToken)).body.code).toBe('REFRESH_INVALID');
      expect(await revocationOf(sidOf(loggedOut.accessToken))).toBe('logout');
      expect(await reuseEvents(g, claimsOf(loggedOut.accessToken).userId)).toEqual([
        { withinGrace: 'true', action: 'refused' },
      ]);

      const tooOld = (await registerAndVerify(g)).session;
      expect((await refresh(g, tooOld.refreshToken)).status).toBe(200);
      await g.db.query(
        `UPDATE sessions SET created_at = now() - interval '91 days', authenticated_at = now() - interval '91 days' WHERE id = $1`,
        [sidOf(tooOld.accessToken)],
      );
      expect((await refresh(g, tooOld.refreshToken)).body.code).toBe('REFRESH_INVALID');
      expect(await reuseEvents(g, claimsOf(tooOld.accessToken).userId)).toEqual([
        { withinGrace: 'true', action: 'refused' },
      ]);
    });

    it('never hands out a successor that is not on record for the same session (e.g. spent before this release)', async () => {
      // The successor's row moved to another session: the duplicate must not get a token of that session.
      const victim = await registerAndVerify(g);
      const other = await registerAndVerify(g);
      const rotated = await refresh(g, victim.session.refreshToken);
      expect(rotated.status).toBe(200);
      const moved = await g.db.query('UPDATE refresh_tokens SET session_id = $2 WHERE token_hash = $1', [
        sha256(rotated.body.refreshToken),
        sidOf(other.session.accessToken),
      ]);
      expect(moved.rowCount).toBe(1);
      const duplicate = await refresh(g, victim.session.refreshToken);
      expect(duplicate.status).toBe(401);
      expect(duplicate.body.code).toBe('REFRESH_INVALID');
      expect(await revocationOf(sidOf(other.session.accessToken))).toBeNull();

      // No successor on record at all (a token spent by the previous release, whose successor was random).
      const legacy = (await registerAndVerify(g)).session;
      const legacyRotated = await refresh(g, legacy.refreshToken);
      await g.db.query('DELETE FROM refresh_tokens WHERE token_hash = $1', [
        sha256(legacyRotated.body.refreshToken),
      ]);
      expect((await refresh(g, legacy.refreshToken)).body.code).toBe('REFRESH_INVALID');
      expect(await revocationOf(sidOf(legacy.accessToken))).toBeNull();
      expect(await reuseEvents(g, claimsOf(legacy.accessToken).userId)).toEqual([
        { withinGrace: 'true', action: 'refused' },
      ]);
    });

    it('still revokes the session when a spent token comes back after the grace window, and audits it', async () => {
      const { session } = await registerAndVerify(g);
      const sid = decodeJwt(session.accessToken).payload.sid as string;
      const rotated = await refresh(g, session.refreshToken);
      expect(rotated.status).toBe(200);
      await g.db.query(
        `UPDATE refresh_tokens SET used_at = used_at - interval '6 seconds' WHERE token_hash = $1`,
        [sha256(session.refreshToken)],
      );
      const replay = await refresh(g, session.refreshToken);
      expect(replay.body.code).toBe('REFRESH_INVALID');
      const { rows } = await g.db.query('SELECT revoked_reason FROM sessions WHERE id = $1', [sid]);
      expect(rows).toEqual([{ revoked_reason: 'refresh_reuse' }]);
      expect((await refresh(g, rotated.body.refreshToken)).body.code).toBe('REFRESH_INVALID');
      expect(await reuseEvents(g, claimsOf(session.accessToken).userId)).toEqual([
        { withinGrace: 'false', action: 'session_revoked' },
      ]);
    });
  });

  describe('logout', () => {
    it('answers 204 and ends the session: its refresh token and its access token stop working', async () => {
      const { session } = await registerAndVerify(t);
      const res = await t.post('/auth/logout', {}, session.accessToken);
      expect(res.status).toBe(204);
      expect(res.body).toBeUndefined();

      const refreshed = await refresh(t, session.refreshToken);
      expect(refreshed.status).toBe(401);
      expect(refreshed.body.code).toBe('REFRESH_INVALID');
      const access = await me(t, session.accessToken);
      expect(access.status).toBe(401);
      expect(access.body.code).toBe('UNAUTHENTICATED');
    });

    it('leaves the same user’s other session alone', async () => {
      const { identity, session: first } = await registerAndVerify(t);
      const second = await loginAndVerify(identity);
      const third = await loginAndVerify(identity);

      expect((await t.post('/auth/logout', {}, first.accessToken)).status).toBe(204);
      expect((await me(t, first.accessToken)).status).toBe(401);
      for (const other of [second, third]) {
        expect((await me(t, other.accessToken)).status).toBe(200);
        expect((await refresh(t, other.refreshToken)).status).toBe(200);
      }
    });

    it('with {refreshToken} of the caller’s other session, revokes that session too', async () => {
      const { identity, session: first } = await registerAndVerify(t);
      const second = await loginAndVerify(identity);
      const third = await loginAndVerify(identity);

      const res = await t.post('/auth/logout', { refreshToken: second.refreshToken }, first.accessToken);
      expect(res.status).toBe(204);
      for (const ended of [first, second]) {
        const access = await me(t, ended.accessToken);
        expect(access.status).toBe(401);
        expect(access.body.code).toBe('UNAUTHENTICATED');
        const refreshed = await refresh(t, ended.refreshToken);
        expect(refreshed.status).toBe(401);
        expect(refreshed.body.code).toBe('REFRESH_INVALID');
      }
      expect((await me(t, third.accessToken)).status).toBe(200);
    });

    it('with another user’s refresh token, does not revoke that user’s session', async () => {
      const alice = await registerAndVerify(t);
      const bob = await registerAndVerify(t);
      const bobSid = decodeJwt(bob.session.accessToken).payload.sid as string;

      const res = await t.post(
        '/auth/logout',
        { refreshToken: bob.session.refreshToken },
        alice.session.accessToken,
      );
      expect(res.status).toBe(204);
      expect((await me(t, alice.session.accessToken)).status).toBe(401);

      expect((await me(t, bob.session.accessToken)).status).toBe(200);
      const { rows } = await t.db.query('SELECT revoked_at FROM sessions WHERE id = $1', [bobSid]);
      expect(rows).toEqual([{ revoked_at: null }]);
      expect((await refresh(t, bob.session.refreshToken)).status).toBe(200);
    });
  });

  describe('claims', () => {
    it('issues the full access token as an RFC 9068 at+jwt: HS256, aud api, full amr, sid, auth_time, 900 s', async () => {
      const { session, partialToken } = await registerAndVerify(t);
      const { header, payload } = decodeJwt(session.accessToken);
      expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt' });
      expect(payload).toEqual({
        iss: 'xoxzo-2fa-auth',
        aud: 'api',
        sub: expect.stringMatching(UUID),
        sid: expect.stringMatching(UUID),
        jti: expect.any(String),
        sfa_time: expect.any(Number),
        amr: FULL_AMR,
        auth_time: expect.any(Number),
        iat: expect.any(Number),
        exp: expect.any(Number),
      });
      expect((payload.exp as number) - (payload.iat as number)).toBe(900);
      expect(payload.auth_time as number).toBeLessThanOrEqual(payload.iat as number);
      expect(payload.sub).toBe(decodeJwt(partialToken).payload.sub);
      const { rows } = await t.db.query('SELECT user_id FROM sessions WHERE id = $1', [payload.sid]);
      expect(rows).toEqual([{ user_id: payload.sub }]);
    });

    it('issues the partial token as 2fa-challenge+jwt: aud api:2fa, amr [pwd], jti = attempt uuid, 600 s', async () => {
      const partialToken = await openPartialToken();
      const { header, payload } = decodeJwt(partialToken);
      expect(header).toEqual({ alg: 'HS256', typ: '2fa-challenge+jwt' });
      expect(payload).toEqual({
        iss: 'xoxzo-2fa-auth',
        aud: 'api:2fa',
        sub: expect.stringMatching(UUID),
        jti: expect.stringMatching(UUID),
        amr: ['pwd'],
        iat: expect.any(Number),
        exp: expect.any(Number),
      });
      expect(payload).not.toHaveProperty('sid');
      expect(payload).not.toHaveProperty('auth_time');

      // The token expires with its login attempt, which lives exactly 600 s. `exp` comes from the attempt
      // (opened before the SMS is sent) and `iat` from the signing moment after it, so exp - iat is 600,
      // or 599 when a second boundary falls in between: asserting exactly 600 would be flaky.
      const { rows } = await t.db.query<{ user_id: string; exp: number; ttl: number }>(
        `SELECT user_id, floor(extract(epoch FROM expires_at))::int AS exp,
                extract(epoch FROM expires_at - pin_sent_at)::int AS ttl
           FROM login_attempts WHERE id = $1`,
        [payload.jti],
      );
      expect(rows).toEqual([{ user_id: payload.sub, exp: payload.exp, ttl: 600 }]);
      const lifetime = (payload.exp as number) - (payload.iat as number);
      expect(lifetime).toBeGreaterThanOrEqual(599);
      expect(lifetime).toBeLessThanOrEqual(600);
    });
  });
});
