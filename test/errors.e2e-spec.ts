import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { expectError as expectErrorCode } from './support/expect-error.js';
import { decodeJwt } from './support/jwt-forge.js';
import { HttpResult, newIdentity, registerAndVerify, startTestApp, TestApp } from './support/test-app.js';

/** Every answer of this file, to check at the end that none was a 5xx. */
const statuses: { method: string; path: string; status: number }[] = [];

describe('error responses: {statusCode, code, message}', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function send(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpResult> {
    const res = await t.request(method, path, options);
    statuses.push({ method, path, status: res.status });
    return res;
  }
  const post = (path: string, body?: unknown, token?: string) => send('POST', path, { body, token });

  /** The shared expectError, and also: a message, and a JSON content type. */
  function expectError(res: HttpResult, status: number, code: string) {
    expectErrorCode(res, status, code);
    expect(res.body.message).toBeDefined();
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  }

  /** `message` is the list of field problems, one string each, naming the field. */
  function expectFieldProblems(res: HttpResult, fields: string[]) {
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(Array.isArray(res.body.message)).toBe(true);
    const messages = res.body.message as unknown[];
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(typeof m).toBe('string');
    for (const field of fields) {
      expect(messages.some((m) => (m as string).startsWith(field))).toBe(true);
    }
  }

  describe('400 VALIDATION_FAILED', () => {
    it('lists every missing register field in message (an array of strings)', async () => {
      const res = await post('/auth/register', {});
      expectFieldProblems(res, ['email', 'password', 'phone']);
      expect(res.body.message).toHaveLength(3);
    });

    it.each([
      ['a common password', () => 'password123', /too common/],
      ['a password with the email name', (id: { email: string }) => `x-${id.email.split('@')[0]}-x`, /email/],
      ['a password with the phone number', (id: { phone: string }) => `pin ${id.phone.slice(-8)} !`, /phone/],
    ])('refuses a registration with %s (400 on password, no account)', async (_label, password, why) => {
      const id = newIdentity();
      const res = await post('/auth/register', { ...id, password: password(id) });
      expectFieldProblems(res, ['password']);
      expect(JSON.stringify(res.body.message)).toMatch(why);
      expect((await t.db.query('SELECT 1 FROM users WHERE email = $1', [id.email])).rows).toHaveLength(0);
    });

    it('refuses a register body missing one field', async () => {
      const { phone: _phone, ...withoutPhone } = newIdentity();
      expectFieldProblems(await post('/auth/register', withoutPhone), ['phone']);
      const { password: _password, ...withoutPassword } = newIdentity();
      expectFieldProblems(await post('/auth/register', withoutPassword), ['password']);
    });

    it('refuses wrong types: number password, array email, object phone', async () => {
      const id = newIdentity();
      expectFieldProblems(await post('/auth/register', { ...id, password: 12345678 }), ['password']);
      expectFieldProblems(await post('/auth/register', { ...id, email: [id.email] }), ['email']);
      expectFieldProblems(await post('/auth/register', { ...id, phone: { number: id.phone } }), ['phone']);
      expectFieldProblems(
        await post('/auth/register', { email: true, password: null, phone: 818012345678 }),
        ['email', 'password', 'phone'],
      );
      const { rows } = await t.db.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [id.email]);
      expect(rows[0].n).toBe(0);
    });

    it('refuses an unknown extra field', async () => {
      const res = await post('/auth/register', { ...newIdentity(), isAdmin: true });
      expectFieldProblems(res, ['isAdmin']);
    });

    it('refuses a phone number that is not international (080-1234-5678)', async () => {
      const res = await post('/auth/register', { ...newIdentity(), phone: '080-1234-5678' });
      expectFieldProblems(res, ['phone']);
      const local = await post('/auth/register', { ...newIdentity(), phone: '09012345678' });
      expectFieldProblems(local, ['phone']);
    });

    it('accepts a spaced international number (+81 90-1234-5678) and stores it as E.164', async () => {
      const id = { ...newIdentity(), phone: '+81 90-1234-5678' };
      const registered = await post('/auth/register', id);
      expect(registered.status).toBe(201);
      expect(t.xoxzo.messagesTo('+819012345678')).toHaveLength(1);
      const verified = await post(
        '/auth/2fa/verify',
        { pin: t.xoxzo.lastPinFor('+819012345678') },
        registered.body.accessToken,
      );
      expect(verified.status).toBe(200);
      const me = await send('GET', '/users/me', { token: verified.body.accessToken });
      expect(me.status).toBe(200);
      expect(me.body.phone).toBe('+819012345678');
      const { rows } = await t.db.query('SELECT phone FROM users WHERE email = $1', [id.email]);
      expect(rows).toEqual([{ phone: '+819012345678' }]);
    });

    it('refuses a password shorter than 8 or longer than 128 characters (and accepts 8 and 128)', async () => {
      expectFieldProblems(await post('/auth/register', { ...newIdentity(), password: 'a'.repeat(7) }), [
        'password',
      ]);
      expectFieldProblems(await post('/auth/register', { ...newIdentity(), password: 'a'.repeat(129) }), [
        'password',
      ]);
      expect((await post('/auth/register', { ...newIdentity(), password: 'a'.repeat(8) })).status).toBe(201);
      expect((await post('/auth/register', { ...newIdentity(), password: 'a'.repeat(128) })).status).toBe(
        201,
      );
    });

    it('refuses a body that is not JSON', async () => {
      const res = await send('POST', '/auth/register', {
        raw: '{bad',
        headers: { 'content-type': 'application/json' },
      });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(res.body.message).toBe('Request body is not valid JSON');
    });

    it('refuses an empty JSON body', async () => {
      const res = await send('POST', '/auth/register', {
        raw: '',
        headers: { 'content-type': 'application/json' },
      });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(res.body.message).toBe('Request body is not valid JSON');
    });

    it('refuses a JSON array as body', async () => {
      const res = await post('/auth/register', [newIdentity()]);
      expectError(res, 400, 'VALIDATION_FAILED');
    });

    it('refuses null as body', async () => {
      const res = await send('POST', '/auth/register', {
        raw: 'null',
        headers: { 'content-type': 'application/json' },
      });
      expectError(res, 400, 'VALIDATION_FAILED');
    });

    it('refuses a JSON string or number as body', async () => {
      expectError(await post('/auth/register', 'hello'), 400, 'VALIDATION_FAILED');
      expectError(await post('/auth/register', 42), 400, 'VALIDATION_FAILED');
    });

    it('answers a login without password with 400, not 401, and sends no SMS', async () => {
      const { identity } = await registerAndVerify(t);
      const before = t.xoxzo.requests;
      const res = await post('/auth/login', { email: identity.email });
      expectFieldProblems(res, ['password']);
      const empty = await post('/auth/login', { email: identity.email, password: '' });
      expectFieldProblems(empty, ['password']);
      const noEmail = await post('/auth/login', { password: identity.password });
      expectFieldProblems(noEmail, ['email']);
      expect(t.xoxzo.requests).toBe(before);
    });

    it('refuses a PIN that is not 4-8 digits ("12ab") with 400', async () => {
      const registered = await post('/auth/register', newIdentity());
      expect(registered.status).toBe(201);
      for (const pin of ['12ab', '123', '123456789', 123456]) {
        expectFieldProblems(await post('/auth/2fa/verify', { pin }, registered.body.accessToken), ['pin']);
      }
      // A malformed PIN is not a wrong PIN: the attempt's failure budget is untouched.
      const { rows } = await t.db.query(
        'SELECT failed_checks FROM login_attempts WHERE user_id = $1 ORDER BY created_at',
        [decodeJwt(registered.body.accessToken).payload.sub],
      );
      expect(rows).toEqual([{ failed_checks: 0 }]);
    });

    it('refuses a malformed refresh token with 400', async () => {
      expectFieldProblems(await post('/auth/refresh', {}), ['refreshToken']);
      expectFieldProblems(await post('/auth/refresh', { refreshToken: 'short' }), ['refreshToken']);
      expectFieldProblems(await post('/auth/refresh', { refreshToken: 'x'.repeat(40) + '!' }), [
        'refreshToken',
      ]);
    });
  });

  describe('401 INVALID_CREDENTIALS', () => {
    it('gives an unknown email and a wrong password the identical body, and sends no SMS for either', async () => {
      const { identity } = await registerAndVerify(t);
      const before = t.xoxzo.requests;
      const unknown = await post('/auth/login', { email: newIdentity().email, password: identity.password });
      const wrong = await post('/auth/login', { email: identity.email, password: 'wrong password!' });
      expectError(unknown, 401, 'INVALID_CREDENTIALS');
      expectError(wrong, 401, 'INVALID_CREDENTIALS');
      expect(wrong.body).toEqual(unknown.body);
      expect(wrong.headers.get('www-authenticate')).toBe(unknown.headers.get('www-authenticate'));
      expect(t.xoxzo.requests).toBe(before);
      expect(t.xoxzo.messagesTo(identity.phone)).toHaveLength(1);
    });
  });

  describe('409 EMAIL_TAKEN', () => {
    it('reads full-width and other compatibility forms of an email as the plain address (NFKC)', async () => {
      const id = newIdentity();
      const [local, domain] = id.email.split('@');
      // Full-width letters and digits (U+FF01…), and the full-width @ sign.
      const fullWidth =
        [...local].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('') + '＠' + domain;
      expect((await post('/auth/register', { ...id, email: fullWidth })).status).toBe(201);
      const stored = await t.db.query('SELECT email FROM users WHERE email = $1', [id.email]);
      expect(stored.rows).toHaveLength(1);
      expectError(await post('/auth/register', { ...newIdentity(), email: id.email }), 409, 'EMAIL_TAKEN');
      expect((await post('/auth/login', { email: id.email, password: id.password })).status).toBe(200);
    });

    it('refuses the same email twice', async () => {
      const id = newIdentity();
      expect((await post('/auth/register', id)).status).toBe(201);
      expectError(await post('/auth/register', { ...newIdentity(), email: id.email }), 409, 'EMAIL_TAKEN');
    });

    it('refuses an email differing only in case or surrounding whitespace', async () => {
      const id = newIdentity();
      expect((await post('/auth/register', id)).status).toBe(201);
      expectError(
        await post('/auth/register', { ...newIdentity(), email: id.email.toUpperCase() }),
        409,
        'EMAIL_TAKEN',
      );
      expectError(
        await post('/auth/register', { ...newIdentity(), email: `  ${id.email.replace('user', 'User')}\t` }),
        409,
        'EMAIL_TAKEN',
      );
      const { rows } = await t.db.query('SELECT count(*)::int AS n FROM users WHERE lower(email) = $1', [
        id.email,
      ]);
      expect(rows[0].n).toBe(1);
    });

    it('lets exactly one of 10 parallel registrations of one email win; the others get 409, never 500', async () => {
      const email = newIdentity().email;
      const results = await Promise.all(
        Array.from({ length: 10 }, () => post('/auth/register', { ...newIdentity(), email })),
      );
      const statusCounts = results.reduce<Record<number, number>>((acc, r) => {
        acc[r.status] = (acc[r.status] ?? 0) + 1;
        return acc;
      }, {});
      expect(statusCounts).toEqual({ 201: 1, 409: 9 });
      for (const r of results.filter((r) => r.status === 409)) expectError(r, 409, 'EMAIL_TAKEN');
      const { rows } = await t.db.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
      expect(rows[0].n).toBe(1);
    });
  });

  describe('404 / 405 / 413 / 415', () => {
    it('answers an unknown route with 404 NOT_FOUND, token or not (routing comes before the guard)', async () => {
      const anonymous = await send('GET', '/no/such/route');
      expectError(anonymous, 404, 'NOT_FOUND');
      const { session } = await registerAndVerify(t);
      expectError(await send('GET', '/no/such/route', { token: session.accessToken }), 404, 'NOT_FOUND');
      expectError(await post('/auth/nope', {}), 404, 'NOT_FOUND');
    });

    it('answers a known path with an unrouted method with 404 NOT_FOUND', async () => {
      // Fastify has no automatic 405: an unrouted method is simply an unknown route.
      expectError(await send('GET', '/auth/register'), 404, 'NOT_FOUND');
    });

    it('refuses a body over 16 KiB with 413 PAYLOAD_TOO_LARGE', async () => {
      const id = newIdentity();
      const res = await post('/auth/register', { ...id, password: 'x'.repeat(17 * 1024) });
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      const { rows } = await t.db.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [id.email]);
      expect(rows[0].n).toBe(0);
    });

    it('refuses POST /auth/register as text/plain with 415 UNSUPPORTED_MEDIA_TYPE (JSON only)', async () => {
      const id = newIdentity();
      const res = await send('POST', '/auth/register', {
        raw: JSON.stringify(id),
        headers: { 'content-type': 'text/plain' },
      });
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      const { rows } = await t.db.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [id.email]);
      expect(rows[0].n).toBe(0);
    });

    it('refuses POST /auth/register with an unknown content type (application/xml)', async () => {
      const res = await send('POST', '/auth/register', {
        raw: '<user/>',
        headers: { 'content-type': 'application/xml' },
      });
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('refuses an HTML-form body (which any web page can post cross-site) with 415, creating nothing', async () => {
      const id = newIdentity();
      const res = await send('POST', '/auth/register', {
        raw: new URLSearchParams(id).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      const { rows } = await t.db.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [id.email]);
      expect(rows[0].n).toBe(0);
    });

    it('refuses bodies nested too deeply, keys like constructor, and lone surrogates with 400, never 500', async () => {
      const deep = '{"email":' + '['.repeat(2000) + ']'.repeat(2000) + '}';
      const bodies = [
        deep,
        JSON.stringify({ ...newIdentity(), constructor: { polluted: 1 } }),
        JSON.stringify({ ...newIdentity(), prototype: 1 }),
        '{"email":"\\ud800","password":"correct horse battery staple","phone":"+819012345678"}',
      ];
      for (const raw of bodies) {
        const res = await send('POST', '/auth/register', {
          raw,
          headers: { 'content-type': 'application/json' },
        });
        expectError(res, 400, 'VALIDATION_FAILED');
      }
    });
  });

  describe('/health', () => {
    it('answers 200 while the database is up', async () => {
      const res = await send('GET', '/health');
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ok');
    });
  });

  it('answered no request of this file with a 5xx', () => {
    expect(statuses.length).toBeGreaterThan(30);
    expect(statuses.filter((s) => s.status >= 500)).toEqual([]);
  });
});

describe('/health when the database refuses connections', () => {
  let t: TestApp;
  let admin: pg.Client;
  let name: string;

  beforeAll(async () => {
    t = await startTestApp();
    name = new URL(t.databaseUrl).pathname.slice(1);
    // A connection to the maintenance database, so that cutting off the app's database spares it.
    admin = new pg.Client({ connectionString: process.env.E2E_POSTGRES_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS true`);
    await admin.end();
    await t.close();
  });

  it('answers 200, then 503 SERVICE_UNAVAILABLE while the database is cut off, then 200 again', async () => {
    const up = await t.get('/health');
    expect(up.status).toBe(200);
    expect(up.body.status).toBe('ok');

    // t.db is a connection to the app's database too: keep it (pid excluded) so that t.close() still works.
    const { rows } = await t.db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS false`);
    await admin.query(
      `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1 AND pid <> $2`,
      [name, rows[0].pid],
    );

    const down = await t.get('/health');
    expect(down.status).toBe(503);
    expect(down.body).toEqual(
      expect.objectContaining({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', message: expect.any(String) }),
    );

    await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS true`);
    const back = await t.get('/health');
    expect(back.status).toBe(200);
  });
});
