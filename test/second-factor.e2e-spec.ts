import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { JwtService } from '@nestjs/jwt';
import { AuthKeys } from '../src/auth/auth-keys.js';
import type { FakeFailure } from './fakes/fake-xoxzo.server.js';
import { claimsOf, Identity, resend, status, verify, wrongPin } from './support/auth-api.js';
import { attemptsOf, count, eventsOf, sessionsOf, userIdByEmail, usersWithEmail } from './support/db.js';
import { expectError } from './support/expect-error.js';
import { decodeJwt } from './support/jwt-forge.js';
import { HttpResult, newIdentity, registerAndVerify, startTestApp, TestApp } from './support/test-app.js';

/** A partial token, the PIN that was sent for it, and whose login attempt it is. */
interface Challenge {
  identity: Identity;
  token: string;
  pin: string;
  userId: string;
  attemptId: string;
}

function challengeOf(identity: Identity, token: string, pin: string): Challenge {
  return { identity, token, pin, ...claimsOf(token) };
}

async function register(t: TestApp, identity: Identity = newIdentity()): Promise<Challenge> {
  const res = await t.post('/auth/register', identity);
  expect(res.status).toBe(201);
  return challengeOf(identity, res.body.accessToken, t.xoxzo.lastPinFor(identity.phone));
}

async function login(t: TestApp, identity: Identity): Promise<Challenge> {
  const res = await t.post('/auth/login', { email: identity.email, password: identity.password });
  expect(res.status).toBe(200);
  return challengeOf(identity, res.body.accessToken, t.xoxzo.lastPinFor(identity.phone));
}

async function attemptRow(t: TestApp, attemptId: string) {
  const { rows } = await t.db.query(
    'SELECT status, failed_checks, pin_hash, closed_at, expires_at FROM login_attempts WHERE id = $1',
    [attemptId],
  );
  expect(rows).toHaveLength(1);
  return rows[0] as {
    status: string;
    failed_checks: number;
    pin_hash: Buffer;
    closed_at: Date | null;
    expires_at: Date;
  };
}

async function phoneVerifiedAt(t: TestApp, userId: string): Promise<Date | null> {
  const { rows } = await t.db.query('SELECT phone_verified_at FROM users WHERE id = $1', [userId]);
  expect(rows).toHaveLength(1);
  return rows[0].phone_verified_at as Date | null;
}

/** What a challenge response must contain (newer fields may be added). */
const CHALLENGE_BODY = {
  accessToken: expect.any(String),
  tokenType: 'Bearer',
  expiresIn: expect.any(Number),
  authLevel: 'partial',
  challenge: {
    channel: 'sms',
    to: expect.stringMatching(/^\+81\*+\d{4}$/),
    expiresIn: 300,
    resendIn: expect.any(Number),
  },
};

describe('second factor, default settings (6 digits, 5 attempts, 30 s resend cooldown)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  describe('wrong PINs and the attempt lock', () => {
    it('counts wrong PINs down 4,3,2,1,0 and then closes the attempt, even for the right PIN', async () => {
      const c = await register(t);
      const bad = wrongPin(c.pin);
      for (const attemptsLeft of [4, 3, 2, 1, 0]) {
        const res = await verify(t, c.token, bad);
        expectError(res, 401, 'PIN_INVALID');
        expect(res.body.attemptsLeft).toBe(attemptsLeft);
        expect((await attemptRow(t, c.attemptId)).failed_checks).toBe(5 - attemptsLeft);
      }
      const row = await attemptRow(t, c.attemptId);
      expect(row.status).toBe('locked');
      expect(row.closed_at).not.toBeNull();

      const right = await verify(t, c.token, c.pin);
      expectError(right, 401, 'CHALLENGE_CLOSED');
      expect(right.body.accessToken).toBeUndefined();
      // No more guesses are counted, and no session or phone verification came out of it.
      expectError(await verify(t, c.token, bad), 401, 'CHALLENGE_CLOSED');
      expect((await attemptRow(t, c.attemptId)).failed_checks).toBe(5);
      expect(await sessionsOf(t, c.userId)).toBe(0);
      expect(await phoneVerifiedAt(t, c.userId)).toBeNull();

      // A locked attempt cannot get a new PIN either.
      const sms = t.xoxzo.messagesTo(c.identity.phone).length;
      expectError(await resend(t, c.token), 401, 'CHALLENGE_CLOSED');
      expect(t.xoxzo.messagesTo(c.identity.phone)).toHaveLength(sms);
    });

    it('counts parallel wrong PINs exactly: 10 at once give 4,3,2,1,0 and five CHALLENGE_CLOSED', async () => {
      const c = await register(t);
      const bad = wrongPin(c.pin);
      const results = await Promise.all(Array.from({ length: 10 }, () => verify(t, c.token, bad)));
      const invalid = results.filter((r) => r.status === 401 && r.body.code === 'PIN_INVALID');
      const closed = results.filter((r) => r.status === 401 && r.body.code === 'CHALLENGE_CLOSED');
      expect(invalid.map((r) => r.body.attemptsLeft as number).sort()).toEqual([0, 1, 2, 3, 4]);
      expect(closed).toHaveLength(5);
      expect(await attemptRow(t, c.attemptId)).toMatchObject({ status: 'locked', failed_checks: 5 });
      expectError(await verify(t, c.token, c.pin), 401, 'CHALLENGE_CLOSED');
    });
  });

  describe('resend', () => {
    it('refuses a resend within the cooldown with 429 RESEND_TOO_SOON, Retry-After, and no SMS', async () => {
      const c = await register(t);
      const before = await attemptRow(t, c.attemptId);
      expect(t.xoxzo.messagesTo(c.identity.phone)).toHaveLength(1);

      const res = await resend(t, c.token);
      expectError(res, 429, 'RESEND_TOO_SOON');
      expect(Number.isInteger(res.body.retryAfter)).toBe(true);
      expect(res.body.retryAfter).toBeGreaterThanOrEqual(1);
      expect(res.body.retryAfter).toBeLessThanOrEqual(30);
      expect(res.headers.get('retry-after')).toBe(String(res.body.retryAfter));

      expect(t.xoxzo.messagesTo(c.identity.phone)).toHaveLength(1);
      expect((await attemptRow(t, c.attemptId)).pin_hash.equals(before.pin_hash)).toBe(true);
      // The PIN already sent is still the one that works.
      expect((await verify(t, c.token, c.pin)).status).toBe(200);
    });

    it('after the cooldown sends a new PIN: a challenge response, the old PIN stops working, the new one works', async () => {
      const c = await register(t);
      let newPin = c.pin;
      let res: HttpResult | undefined;
      // Loop only in the one-in-a-million case that the new PIN equals the old one.
      for (let i = 0; i < 3 && newPin === c.pin; i += 1) {
        await t.db.query(
          "UPDATE login_attempts SET pin_sent_at = pin_sent_at - interval '31 seconds' WHERE id = $1",
          [c.attemptId],
        );
        res = await resend(t, c.token);
        expect(res.status).toBe(200);
        newPin = t.xoxzo.lastPinFor(c.identity.phone);
      }
      expect(newPin).not.toBe(c.pin);
      expect(res!.body).toMatchObject(CHALLENGE_BODY);
      expect(res!.body.challenge.resendIn).toBe(30);
      expect(res!.body.challenge.to).not.toContain(c.identity.phone.slice(3));
      expect(res!.body.expiresIn).toBeLessThanOrEqual(600);
      expect(decodeJwt(res!.body.accessToken).payload.jti).toBe(c.attemptId);
      expect(t.xoxzo.messagesTo(c.identity.phone).length).toBeGreaterThanOrEqual(2);

      const old = await verify(t, c.token, c.pin);
      expectError(old, 401, 'PIN_INVALID');
      expect(old.body.attemptsLeft).toBe(4);

      const ok = await verify(t, res!.body.accessToken, newPin);
      expect(ok.status).toBe(200);
      expect(ok.body.authLevel).toBe('full');
    });
  });

  describe('single use and binding', () => {
    it('accepts the right PIN once: the second verify is 401 CHALLENGE_CLOSED', async () => {
      const c = await register(t);
      const first = await verify(t, c.token, c.pin);
      expect(first.status).toBe(200);
      expect(first.body.authLevel).toBe('full');
      const second = await verify(t, c.token, c.pin);
      expectError(second, 401, 'CHALLENGE_CLOSED');
      expect(second.body.accessToken).toBeUndefined();
      expect(await sessionsOf(t, c.userId)).toBe(1);
      expect((await attemptRow(t, c.attemptId)).status).toBe('verified');
    });

    it('never accepts the PIN of another login attempt of the same user', async () => {
      const { identity } = await registerAndVerify(t);
      const a = await login(t, identity);
      let b = await login(t, identity);
      while (b.pin === a.pin) b = await login(t, identity);
      expect(b.attemptId).not.toBe(a.attemptId);

      const crossed = await verify(t, b.token, a.pin);
      expectError(crossed, 401, 'PIN_INVALID');
      expect(crossed.body.attemptsLeft).toBe(4);
      expect((await attemptRow(t, b.attemptId)).failed_checks).toBe(1);

      // Both PINs are genuine, each for its own attempt.
      expect((await verify(t, a.token, a.pin)).status).toBe(200);
      expect((await verify(t, b.token, b.pin)).status).toBe(200);
    });

    it("never accepts another user's PIN", async () => {
      const mine = await register(t);
      let theirs = await register(t);
      while (theirs.pin === mine.pin) theirs = await login(t, theirs.identity);

      const res = await verify(t, mine.token, theirs.pin);
      expectError(res, 401, 'PIN_INVALID');
      expect(res.body.attemptsLeft).toBe(4);
      expect(await sessionsOf(t, mine.userId)).toBe(0);
      expect(await sessionsOf(t, theirs.userId)).toBe(0);

      expect((await verify(t, mine.token, mine.pin)).status).toBe(200);
    });
  });

  describe('partial token expiry', () => {
    it('never promises a PIN more time than its login attempt has left', async () => {
      const c = await register(t);
      await t.db.query("UPDATE login_attempts SET expires_at = now() + interval '40 seconds' WHERE id = $1", [
        c.attemptId,
      ]);
      const res = await t.get('/auth/2fa/status', c.token);
      expect(res.status).toBe(200);
      expect(res.body.expiresIn).toBeLessThanOrEqual(40);
      expect(res.body.expiresIn).toBeGreaterThan(30);
    });

    it('closes an attempt whose expires_at has passed, even with the right PIN', async () => {
      const c = await register(t);
      await t.db.query("UPDATE login_attempts SET expires_at = now() - interval '1 second' WHERE id = $1", [
        c.attemptId,
      ]);
      const res = await verify(t, c.token, c.pin);
      expectError(res, 401, 'CHALLENGE_CLOSED');
      expect(await sessionsOf(t, c.userId)).toBe(0);
      expect(await phoneVerifiedAt(t, c.userId)).toBeNull();

      const sms = t.xoxzo.messagesTo(c.identity.phone).length;
      expectError(await resend(t, c.token), 401, 'CHALLENGE_CLOSED');
      expect(t.xoxzo.messagesTo(c.identity.phone)).toHaveLength(sms);
    });

    it('answers an expired (otherwise genuine) partial JWT with 401 CHALLENGE_CLOSED', async () => {
      const c = await register(t);
      const jwt = t.app.get(JwtService);
      const keys = t.app.get(AuthKeys);
      const { header, payload } = decodeJwt(c.token);
      expect(header).toEqual({ alg: 'HS256', typ: '2fa-challenge+jwt' });
      const { exp: _exp, iat: _iat, ...claims } = payload;
      const now = Math.floor(Date.now() / 1000);
      const forge = (exp: number, iat: number) =>
        jwt.sign(
          { ...claims, exp, iat },
          {
            secret: keys.partialToken,
            algorithm: 'HS256',
            header: { alg: 'HS256', typ: '2fa-challenge+jwt' },
          },
        );

      // Control: the same forgery, not expired, is accepted as this attempt's token.
      const live = await verify(t, forge(now + 300, now), wrongPin(c.pin));
      expectError(live, 401, 'PIN_INVALID');
      expect(live.body.attemptsLeft).toBe(4);

      const expired = await verify(t, forge(now - 10, now - 700), c.pin);
      expectError(expired, 401, 'CHALLENGE_CLOSED');
      expect(expired.body.accessToken).toBeUndefined();
      expect(await sessionsOf(t, c.userId)).toBe(0);
      expect((await attemptRow(t, c.attemptId)).failed_checks).toBe(1);
      expectError(await resend(t, forge(now - 10, now - 700)), 401, 'CHALLENGE_CLOSED');

      // The attempt itself was still open: the refusal came from the token's exp.
      expect((await verify(t, c.token, c.pin)).status).toBe(200);
    });
  });

  describe('concurrency', () => {
    it('lets exactly one of 10 parallel verifies of the right PIN through, and makes one session', async () => {
      const c = await register(t);
      const results = await Promise.all(Array.from({ length: 10 }, () => verify(t, c.token, c.pin)));
      const ok = results.filter((r) => r.status === 200);
      const closed = results.filter((r) => r.status === 401 && r.body.code === 'CHALLENGE_CLOSED');
      expect(results.map((r) => r.status).sort()).toEqual([200, ...Array<number>(9).fill(401)]);
      expect(ok).toHaveLength(1);
      expect(closed).toHaveLength(9);
      expect(await sessionsOf(t, c.userId)).toBe(1);
      expect(
        await count(t, 'refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE s.user_id = $1', [
          c.userId,
        ]),
      ).toBe(1);
    });
  });

  describe('PIN storage and format', () => {
    it('stores only a 32-byte hash of the PIN, never the PIN', async () => {
      const c = await register(t);
      const { rows } = await t.db.query(
        "SELECT pin_hash, to_jsonb(la) - 'pin_hash' AS other FROM login_attempts la WHERE user_id = $1",
        [c.userId],
      );
      expect(rows).toHaveLength(1);
      const pinHash = rows[0].pin_hash as Buffer;
      expect(Buffer.isBuffer(pinHash)).toBe(true);
      expect(pinHash).toHaveLength(32);
      expect(pinHash.includes(Buffer.from(c.pin))).toBe(false);
      expect(pinHash.toString('hex')).not.toBe(c.pin);
      const other = rows[0].other as Record<string, unknown>;
      expect(Object.keys(other).sort()).toEqual(
        [
          'closed_at',
          'created_at',
          'expires_at',
          'failed_checks',
          'id',
          'phone',
          'pin_expires_at',
          'pin_sent_at',
          'purpose',
          'session_id',
          'status',
          'user_id',
        ].sort(),
      );
      for (const value of Object.values(other)) {
        expect(String(value)).not.toBe(c.pin);
        expect(value).not.toBe(Number(c.pin));
      }
      expect(JSON.stringify(other)).not.toContain(c.pin);
    });

    it('sends 6-digit PINs, answers a wrong-length PIN of 4-8 digits with PIN_INVALID and others with 400', async () => {
      const c = await register(t);
      const [sms] = t.xoxzo.messagesTo(c.identity.phone);
      expect(sms.message).toMatch(/^XOXZO: your verification code is \d{6}\. /);
      expect(c.pin).toMatch(/^\d{6}$/);

      for (const pin of [`${c.pin}0`.slice(0, 7), c.pin.slice(0, 4)]) {
        expectError(await verify(t, c.token, pin), 401, 'PIN_INVALID');
      }
      expect((await attemptRow(t, c.attemptId)).failed_checks).toBe(2);

      for (const pin of ['123', '123456789', 'abcdef', ` ${c.pin}`]) {
        const res = await verify(t, c.token, pin);
        expectError(res, 400, 'VALIDATION_FAILED');
        expect(JSON.stringify(res.body.message)).toContain('pin');
      }
      expectError(
        await t.post('/auth/2fa/verify', { pin: Number(c.pin) }, c.token),
        400,
        'VALIDATION_FAILED',
      );
      // Malformed input is refused before the PIN check: no attempt spent.
      expect((await attemptRow(t, c.attemptId)).failed_checks).toBe(2);

      expect((await verify(t, c.token, c.pin)).status).toBe(200);
    });
  });

  describe('phone ownership', () => {
    it('marks the phone verified only when the PIN is verified', async () => {
      const c = await register(t);
      expect(await phoneVerifiedAt(t, c.userId)).toBeNull();
      expectError(await verify(t, c.token, wrongPin(c.pin)), 401, 'PIN_INVALID');
      expect(await phoneVerifiedAt(t, c.userId)).toBeNull();

      const started = Date.now();
      const res = await verify(t, c.token, c.pin);
      expect(res.status).toBe(200);
      const at = await phoneVerifiedAt(t, c.userId);
      expect(at).toBeInstanceOf(Date);
      expect(Math.abs(at!.getTime() - started)).toBeLessThan(60_000);

      const me = await t.get('/users/me', res.body.accessToken);
      expect(me.status).toBe(200);
      expect(me.body.phoneVerified).toBe(true);
    });

    it('gives a shared unverified number to the first account that verifies it', async () => {
      const phone = newIdentity().phone;
      const first = await register(t, { ...newIdentity(), phone });
      const second = await register(t, { ...newIdentity(), phone });
      expect(t.xoxzo.messagesTo(phone)).toHaveLength(2);

      // (a) first to verify wins; the other gets 409 PHONE_TAKEN.
      const won = await verify(t, first.token, first.pin);
      expect(won.status).toBe(200);
      const me = await t.get('/users/me', won.body.accessToken);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ phone, phoneVerified: true });

      const lost = await verify(t, second.token, second.pin);
      expectError(lost, 409, 'PHONE_TAKEN');
      expect(lost.body.accessToken).toBeUndefined();
      expect(await phoneVerifiedAt(t, second.userId)).toBeNull();
      expect(await sessionsOf(t, second.userId)).toBe(0);

      // (b) a new account with the verified number: 409 and no SMS.
      const third = { ...newIdentity(), phone };
      const res = await t.post('/auth/register', third);
      expectError(res, 409, 'PHONE_TAKEN');
      expect(t.xoxzo.messagesTo(phone)).toHaveLength(2);
      expect(await usersWithEmail(t, third.email)).toBe(0);

      // (c) the losing account cannot log in to get a PIN for it either.
      const attempts = await attemptsOf(t, second.userId);
      const loserLogin = await t.post('/auth/login', {
        email: second.identity.email,
        password: second.identity.password,
      });
      expectError(loserLogin, 409, 'PHONE_TAKEN');
      expect(t.xoxzo.messagesTo(phone)).toHaveLength(2);
      expect(await attemptsOf(t, second.userId)).toBe(attempts);

      // The owner still can.
      await login(t, first.identity);
      expect(t.xoxzo.messagesTo(phone)).toHaveLength(3);
    });

    it('settles two accounts verifying the same number at the same moment: one 200, one 409', async () => {
      const phone = newIdentity().phone;
      const a = await register(t, { ...newIdentity(), phone });
      const b = await register(t, { ...newIdentity(), phone });
      const [ra, rb] = await Promise.all([verify(t, a.token, a.pin), verify(t, b.token, b.pin)]);
      expect([ra.status, rb.status].sort()).toEqual([200, 409]);
      const loser = ra.status === 409 ? ra : rb;
      expect(loser.body.code).toBe('PHONE_TAKEN');
      expect(await count(t, 'users WHERE phone = $1 AND phone_verified_at IS NOT NULL', [phone])).toBe(1);
      expect((await sessionsOf(t, a.userId)) + (await sessionsOf(t, b.userId))).toBe(1);
    });
  });
});

describe('second factor with PIN_MAX_ATTEMPTS=3', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PIN_MAX_ATTEMPTS: '3' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts 2,1,0 and then refuses the right PIN with CHALLENGE_CLOSED', async () => {
    const c = await register(t);
    for (const attemptsLeft of [2, 1, 0]) {
      const res = await verify(t, c.token, wrongPin(c.pin));
      expectError(res, 401, 'PIN_INVALID');
      expect(res.body.attemptsLeft).toBe(attemptsLeft);
    }
    const row = await attemptRow(t, c.attemptId);
    expect(row).toMatchObject({ status: 'locked', failed_checks: 3 });

    expectError(await verify(t, c.token, c.pin), 401, 'CHALLENGE_CLOSED');
    expect(await sessionsOf(t, c.userId)).toBe(0);
    expect(await phoneVerifiedAt(t, c.userId)).toBeNull();
  });
});

describe('second factor with PIN_RESEND_SECONDS=0', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PIN_RESEND_SECONDS: '0' } });
  });
  afterAll(async () => {
    await t.close();
  });

  /** Resends until the new PIN differs from `previous` (equal only one time in a million). */
  async function resendNewPin(c: Challenge, previous: string): Promise<{ res: HttpResult; pin: string }> {
    for (let i = 0; i < 3; i += 1) {
      const res = await resend(t, c.token);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject(CHALLENGE_BODY);
      const pin = t.xoxzo.lastPinFor(c.identity.phone);
      if (pin !== previous) return { res, pin };
    }
    throw new Error('three resends gave the same PIN');
  }

  it('does not reset the failure count on resend: the lock still comes at the max', async () => {
    const c = await register(t);
    const bad1 = wrongPin(c.pin);
    expect((await verify(t, c.token, bad1)).body).toMatchObject({ code: 'PIN_INVALID', attemptsLeft: 4 });
    expect((await verify(t, c.token, bad1)).body).toMatchObject({ code: 'PIN_INVALID', attemptsLeft: 3 });

    const { pin } = await resendNewPin(c, c.pin);
    expect((await attemptRow(t, c.attemptId)).failed_checks).toBe(2);

    const bad2 = wrongPin(pin);
    for (const attemptsLeft of [2, 1, 0]) {
      const res = await verify(t, c.token, bad2);
      expectError(res, 401, 'PIN_INVALID');
      expect(res.body.attemptsLeft).toBe(attemptsLeft);
    }
    expect(await attemptRow(t, c.attemptId)).toMatchObject({ status: 'locked', failed_checks: 5 });

    expectError(await verify(t, c.token, pin), 401, 'CHALLENGE_CLOSED');
    // And a locked attempt cannot be reopened by asking for yet another PIN.
    const sms = t.xoxzo.messagesTo(c.identity.phone).length;
    expectError(await resend(t, c.token), 401, 'CHALLENGE_CLOSED');
    expect(t.xoxzo.messagesTo(c.identity.phone)).toHaveLength(sms);
    expect(await sessionsOf(t, c.userId)).toBe(0);
  });

  it('refuses an expired PIN with PIN_EXPIRED; a resent PIN then works', async () => {
    const c = await register(t);
    await t.db.query(
      "UPDATE login_attempts SET pin_expires_at = now() - interval '1 second' WHERE user_id = $1",
      [c.userId],
    );
    const expired = await verify(t, c.token, c.pin);
    expectError(expired, 401, 'PIN_EXPIRED');
    expect(expired.body.accessToken).toBeUndefined();
    expect(await sessionsOf(t, c.userId)).toBe(0);
    expect(await attemptRow(t, c.attemptId)).toMatchObject({ status: 'pending', failed_checks: 0 });

    const { pin } = await resendNewPin(c, c.pin);
    const ok = await verify(t, c.token, pin);
    expect(ok.status).toBe(200);
    expect(ok.body.authLevel).toBe('full');
    expect(await sessionsOf(t, c.userId)).toBe(1);
  });
});

describe('second factor with PIN_LENGTH=8', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PIN_LENGTH: '8' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('sends an 8-digit PIN; its 6-digit prefix is PIN_INVALID, 9 digits are refused, the 8 digits work', async () => {
    const c = await register(t);
    const [sms] = t.xoxzo.messagesTo(c.identity.phone);
    expect(sms.message).toMatch(/^XOXZO: your verification code is \d{8}\. /);
    expect(c.pin).toMatch(/^\d{8}$/);

    const short = await verify(t, c.token, c.pin.slice(0, 6));
    expectError(short, 401, 'PIN_INVALID');
    expect(short.body.attemptsLeft).toBe(4);

    expectError(await verify(t, c.token, `${c.pin}0`), 400, 'VALIDATION_FAILED');
    expect((await attemptRow(t, c.attemptId)).failed_checks).toBe(1);

    const ok = await verify(t, c.token, c.pin);
    expect(ok.status).toBe(200);
    expect(ok.body.authLevel).toBe('full');
  });
});

/**
 * A send fails for certain only when Xoxzo certainly did not take the SMS: it refused the request (401, 403,
 * 400), or it never got it and the retries (connection refused, 429, 503 with Retry-After) ran out of
 * SMS_DEADLINE_MS. Such a failure leaves nothing behind. A short deadline keeps these tests fast; each
 * failing send is followed by a good one, so the circuit breaker stays closed.
 */
describe('SMS that certainly were not sent leave nothing behind', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_DEADLINE_MS: '500' } });
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => {
    t.xoxzo.recover();
  });

  it.each<[string, (t: TestApp) => void]>([
    ['401 (credentials)', (t) => t.xoxzo.failAlways('http401')],
    ['403 (no credit)', (t) => t.xoxzo.failAlways('http403')],
    ['429 every time', (t) => t.xoxzo.failAlways('http429', { retryAfter: 0 })],
    ['503 with Retry-After every time', (t) => t.xoxzo.failAlways('http503', { retryAfter: 0 })],
    ['connection refused every time', (t) => t.refuseXoxzoConnections(10_000)],
  ])(
    'register with Xoxzo failing with %s → 503 SMS_UNAVAILABLE, no account, no SMS; the same register → 201',
    async (_, failing) => {
      const id = newIdentity();
      const reached = t.xoxzo.requests + t.xoxzo.refused;
      failing(t);
      const res = await t.post('/auth/register', id);
      expectError(res, 503, 'SMS_UNAVAILABLE');
      expect(res.body.accessToken).toBeUndefined();
      expect(t.xoxzo.requests + t.xoxzo.refused).toBeGreaterThan(reached);
      expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(0);
      expect(await usersWithEmail(t, id.email)).toBe(0);

      t.xoxzo.recover();
      const retry = await register(t, id);
      expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(1);
      expect(await attemptsOf(t, retry.userId)).toBe(1);
      expect((await verify(t, retry.token, retry.pin)).status).toBe(200);
    },
  );

  it('401 and 403 are asked once (a refusal would come again); 429 and refused connections are retried', async () => {
    for (const failure of ['http401', 'http403'] as const) {
      const requests = t.xoxzo.requests;
      t.xoxzo.failAlways(failure);
      expectError(await t.post('/auth/register', newIdentity()), 503, 'SMS_UNAVAILABLE');
      expect(t.xoxzo.requests).toBe(requests + 1);
      t.xoxzo.recover();
    }
    // One retry each (the 500 ms deadline leaves room for one backoff of up to 200 ms).
    const requests = t.xoxzo.requests;
    t.xoxzo.failNext('http429', 1, { retryAfter: 0 });
    const throttled = await register(t);
    expect(t.xoxzo.requests).toBe(requests + 2);
    expect(t.xoxzo.messagesTo(throttled.identity.phone)).toHaveLength(1);
    expect((await verify(t, throttled.token, throttled.pin)).status).toBe(200);

    const before = { requests: t.xoxzo.requests, refused: t.xoxzo.refused };
    t.refuseXoxzoConnections(1);
    const refused = await register(t);
    expect(t.xoxzo.refused).toBe(before.refused + 1);
    expect(t.xoxzo.requests).toBe(before.requests + 1);
    expect(t.xoxzo.messagesTo(refused.identity.phone)).toHaveLength(1);
    expect((await verify(t, refused.token, refused.pin)).status).toBe(200);
  });

  it('login with Xoxzo refusing the credentials → 503 SMS_UNAVAILABLE, no attempt left; the next login → 200', async () => {
    const { identity } = await registerAndVerify(t);
    const userId = await userIdByEmail(t, identity.email);
    const attempts = await attemptsOf(t, userId);
    const sms = t.xoxzo.messagesTo(identity.phone).length;

    t.xoxzo.failAlways('http401');
    const res = await t.post('/auth/login', { email: identity.email, password: identity.password });
    expectError(res, 503, 'SMS_UNAVAILABLE');
    expect(res.body.accessToken).toBeUndefined();
    expect(await attemptsOf(t, userId)).toBe(attempts);
    expect(t.xoxzo.messagesTo(identity.phone)).toHaveLength(sms);

    t.xoxzo.recover();
    const again = await login(t, identity);
    expect(t.xoxzo.messagesTo(identity.phone)).toHaveLength(sms + 1);
    expect(await attemptsOf(t, userId)).toBe(attempts + 1);
    expect((await verify(t, again.token, again.pin)).status).toBe(200);
  });

  it('register with Xoxzo rejecting the recipient → 400 VALIDATION_FAILED about the phone, no account', async () => {
    const id = newIdentity();
    t.xoxzo.failAlways('recipient400');
    const res = await t.post('/auth/register', id);
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(res.body.message)).toMatch(/phone/i);
    expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(0);
    expect(await usersWithEmail(t, id.email)).toBe(0);

    t.xoxzo.recover();
    await register(t, id);
    expect(await usersWithEmail(t, id.email)).toBe(1);
  });

  it('a resend whose SMS certainly failed keeps the previous PIN valid and does not spend the cooldown', async () => {
    const c = await register(t);
    const before = await attemptRow(t, c.attemptId);
    const sms = t.xoxzo.messagesTo(c.identity.phone).length;
    await t.db.query(
      "UPDATE login_attempts SET pin_sent_at = pin_sent_at - interval '31 seconds' WHERE id = $1",
      [c.attemptId],
    );

    t.xoxzo.failAlways('http403');
    const res = await resend(t, c.token);
    expectError(res, 503, 'SMS_UNAVAILABLE');
    expect(t.xoxzo.messagesTo(c.identity.phone)).toHaveLength(sms);
    expect((await attemptRow(t, c.attemptId)).pin_hash.equals(before.pin_hash)).toBe(true);

    // The failed resend did not count as "a PIN was just sent": asking again at once is allowed.
    t.xoxzo.recover();
    const again = await resend(t, c.token);
    expect(again.status).toBe(200);
    expect(t.xoxzo.messagesTo(c.identity.phone)).toHaveLength(sms + 1);
    const newPin = t.xoxzo.lastPinFor(c.identity.phone);
    if (newPin !== c.pin) {
      expectError(await verify(t, c.token, c.pin), 401, 'PIN_INVALID');
    }
    expect((await verify(t, c.token, newPin)).status).toBe(200);
  });

  it('a resend whose SMS certainly failed leaves the old PIN usable', async () => {
    const c = await register(t);
    await t.db.query(
      "UPDATE login_attempts SET pin_sent_at = pin_sent_at - interval '31 seconds' WHERE id = $1",
      [c.attemptId],
    );
    t.refuseXoxzoConnections(10_000);
    expectError(await resend(t, c.token), 503, 'SMS_UNAVAILABLE');
    t.xoxzo.recover();
    const ok = await verify(t, c.token, c.pin);
    expect(ok.status).toBe(200);
    expect(ok.body.authLevel).toBe('full');
  });
});

/**
 * Xoxzo's send API has no idempotency key: after a timeout, a reset or a 5xx (other than a 503 with
 * Retry-After) once the request reached it, the SMS may be on its way. Such a send is not retried (that
 * could deliver the PIN twice) and not reported as a failure (the SMS may arrive): the client gets the
 * normal challenge with `delivery: "unknown"`, the PIN stays valid, and a resend is allowed after the
 * cooldown.
 */
describe('an uncertain send keeps its PIN: one counted send is at most one SMS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_DEADLINE_MS: '3000' } });
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => {
    t.xoxzo.recover();
  });

  /** Lets the resend cooldown of this attempt pass. */
  async function afterCooldown(attemptId: string): Promise<void> {
    await t.db.query(
      "UPDATE login_attempts SET pin_sent_at = pin_sent_at - interval '31 seconds' WHERE id = $1",
      [attemptId],
    );
  }

  it.each<FakeFailure>(['timeout', 'reset', 'http500', 'http503'])(
    'register: Xoxzo takes the SMS, then %s → one request, one SMS, 201 delivery unknown; that PIN verifies',
    async (failure) => {
      const id = newIdentity();
      const requests = t.xoxzo.requests;
      t.xoxzo.failNext(failure, 5, { accepted: true });
      const res = await t.post('/auth/register', id);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject(CHALLENGE_BODY);
      expect(res.body.challenge.delivery).toBe('unknown');
      expect(res.body.challenge.resendIn).toBeGreaterThan(0);
      // Not retried: Xoxzo got one request and delivered one SMS.
      expect(t.xoxzo.requests).toBe(requests + 1);
      expect(t.xoxzo.messagesTo(id.phone)).toHaveLength(1);
      t.xoxzo.recover();

      const c = challengeOf(id, res.body.accessToken, t.xoxzo.lastPinFor(id.phone));
      expect(await attemptsOf(t, c.userId)).toBe(1);
      expect((await status(t, c.token)).body).toMatchObject({ delivery: 'unknown' });
      expect(await eventsOf(t, c.userId, 'pin_send_uncertain')).toBe(1);
      expect(await eventsOf(t, c.userId, 'pin_sent')).toBe(0);
      const ok = await verify(t, c.token, c.pin);
      expect(ok.status).toBe(200);
      expect(ok.body.authLevel).toBe('full');
    },
  );

  it('login: Xoxzo times out and the SMS never arrives → 200 delivery unknown; a resend after the cooldown works', async () => {
    const { identity } = await registerAndVerify(t);
    const userId = await userIdByEmail(t, identity.email);
    const sms = t.xoxzo.messagesTo(identity.phone).length;
    const requests = t.xoxzo.requests;

    t.xoxzo.failNext('timeout', 5);
    const res = await t.post('/auth/login', { email: identity.email, password: identity.password });
    expect(res.status).toBe(200);
    expect(res.body.challenge.delivery).toBe('unknown');
    expect(t.xoxzo.requests).toBe(requests + 1);
    expect(t.xoxzo.messagesTo(identity.phone)).toHaveLength(sms);
    expect(await eventsOf(t, userId, 'pin_send_uncertain')).toBe(1);
    t.xoxzo.recover();

    const { attemptId } = claimsOf(res.body.accessToken);
    // The cooldown counts from the uncertain send.
    expectError(await resend(t, res.body.accessToken), 429, 'RESEND_TOO_SOON');
    await afterCooldown(attemptId);
    const again = await resend(t, res.body.accessToken);
    expect(again.status).toBe(200);
    expect(t.xoxzo.messagesTo(identity.phone)).toHaveLength(sms + 1);
    expect((await verify(t, res.body.accessToken, t.xoxzo.lastPinFor(identity.phone))).status).toBe(200);
  });

  it('resend: an uncertain send replaces the PIN (the old one stops working) and spends the cooldown', async () => {
    const c = await register(t);
    const before = await attemptRow(t, c.attemptId);
    await afterCooldown(c.attemptId);

    t.xoxzo.failNext('http500', 5, { accepted: true });
    const requests = t.xoxzo.requests;
    const res = await resend(t, c.token);
    expect(res.status).toBe(200);
    expect(res.body.challenge).toMatchObject({ delivery: 'unknown', resendIn: 30 });
    expect(t.xoxzo.requests).toBe(requests + 1);
    expect(t.xoxzo.messagesTo(c.identity.phone)).toHaveLength(2);
    expect((await attemptRow(t, c.attemptId)).pin_hash.equals(before.pin_hash)).toBe(false);
    t.xoxzo.recover();

    expectError(await resend(t, c.token), 429, 'RESEND_TOO_SOON');
    const newPin = t.xoxzo.lastPinFor(c.identity.phone);
    if (newPin !== c.pin) expectError(await verify(t, c.token, c.pin), 401, 'PIN_INVALID');
    expect((await verify(t, c.token, newPin)).status).toBe(200);
  });
});

describe('a resend to a number another account has verified since is refused (PIN_RESEND_SECONDS=0)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PIN_RESEND_SECONDS: '0' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('409 PHONE_TAKEN, no SMS to the owner', async () => {
    const owner = newIdentity();
    const o = await register(t, owner);
    const a = await register(t, { ...newIdentity(), phone: owner.phone });
    expect((await verify(t, o.token, o.pin)).status).toBe(200);
    const sent = t.xoxzo.messagesTo(owner.phone).length;
    expectError(await resend(t, a.token), 409, 'PHONE_TAKEN');
    expect(t.xoxzo.messagesTo(owner.phone)).toHaveLength(sent);
  });
});
