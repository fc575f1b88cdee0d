import { randomBytes } from 'node:crypto';
import { HttpService } from '@nestjs/axios';
import type { LoggerService } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { createApp } from '../../src/bootstrap.js';
import { type AppConfig, loadConfig } from '../../src/app-config.js';
import { FAKE_SID, FAKE_TOKEN, FakeXoxzo } from '../fakes/fake-xoxzo.server.js';
import { LIMITS_OFF, LIMITS_OFF_UNSAFE } from './limits-off.js';

export { LIMITS_OFF };

export const TEST_JWT_SECRET = 'e2e-jwt-secret-0123456789abcdef0123456789abcdef';

export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestApp {
  url: string;
  app: NestFastifyApplication;
  xoxzo: FakeXoxzo;
  /** A connection to this app's own database, to inspect rows or move time (e.g. expire a PIN). */
  db: pg.Client;
  databaseUrl: string;
  request<T = any>(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string; raw?: string; headers?: Record<string, string> },
  ): Promise<HttpResult<T>>;
  post<T = any>(path: string, body?: unknown, token?: string): Promise<HttpResult<T>>;
  /**
   * The app's next `times` connections to the fake Xoxzo are refused (ECONNREFUSED, before a byte is
   * written: certainly not sent). `xoxzo.refused` counts them; `xoxzo.recover()` ends it.
   */
  refuseXoxzoConnections(times?: number): void;
  get<T = any>(path: string, token?: string): Promise<HttpResult<T>>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Extra environment, as the operator would set it (on top of the test defaults below). */
  env?: Record<string, string>;
  /** Share a database with another app instance (several instances behind one load balancer). */
  databaseUrl?: string;
  /** Where the app logs (default: nowhere, or the console with E2E_LOG=1). */
  logger?: LoggerService;
}

/**
 * Boots the real application over real HTTP on 127.0.0.1 (Fastify's inject() does not run under Jest on
 * Node 20), on a fresh database of the e2e PostgreSQL, sending SMS to a fresh fake Xoxzo server.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase());
  const xoxzo = await new FakeXoxzo(FAKE_SID, FAKE_TOKEN).start();
  const production = options.env?.NODE_ENV === 'production';
  let config: AppConfig;
  try {
    config = loadConfig({
      NODE_ENV: 'test',
      JWT_SECRET: TEST_JWT_SECRET,
      XOXZO_API_SID: FAKE_SID,
      XOXZO_API_AUTH_TOKEN: FAKE_TOKEN,
      XOXZO_API_URL: xoxzo.url,
      XOXZO_TIMEOUT_MS: '500',
      SMS_DEADLINE_MS: '1500',
      // Abuse limits are off unless a test turns one on (test/abuse/), so that other tests can log
      // in as often as they need.
      ...LIMITS_OFF,
      DATABASE_URL: databaseUrl,
      // Production refuses limits turned off and asks which countries PINs may go to: a test in production
      // mode accepts both explicitly, as an operator would.
      ...(production ? { UNSAFE_SETTINGS: LIMITS_OFF_UNSAFE, SMS_ALLOWED_COUNTRIES: '*' } : {}),
      ...options.env,
    });
  } catch (error) {
    await xoxzo.close();
    throw error;
  }
  // E2E_LOG=1 npm test … shows the app's log (errors behind a 500, the console SMS driver).
  const app = await createApp(
    config,
    databaseUrl,
    options.logger ?? (process.env.E2E_LOG ? undefined : false),
  );
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();

  const request: TestApp['request'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(opts.body);
    }
    const response = await fetch(`${url.replace('[::1]', '127.0.0.1')}${path}`, { method, headers, body });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  };

  return {
    url,
    app,
    xoxzo,
    db,
    databaseUrl,
    request,
    post: (path, body, token) => request('POST', path, { body, token }),
    refuseXoxzoConnections: (times = 1) => xoxzo.refuseNext(app.get(HttpService).axiosRef, times),
    get: (path, token) => request('GET', path, { token }),
    async close() {
      await app.close();
      await db.end();
      await xoxzo.close();
    },
  };
}

/** A test app's `close`, after cutting any connection the server still holds (e.g. a request it never answered). */
export async function closeApp(t: TestApp | undefined): Promise<void> {
  if (!t) return;
  (t.app.getHttpServer() as { closeAllConnections(): void }).closeAllConnections();
  await t.close();
}

/** A new empty database on the e2e PostgreSQL (started by the global setup); returns its URL. */
export async function createTestDatabase(): Promise<string> {
  const adminUrl = process.env.E2E_POSTGRES_URL;
  if (!adminUrl) throw new Error('E2E_POSTGRES_URL is not set: run e2e tests through `npm test`');
  const name = `e2e_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

let counter = 0;
/** A unique, valid, Xoxzo-acceptable identity for a test user. */
export function newIdentity(): { email: string; password: string; phone: string } {
  counter += 1;
  const suffix = `${process.pid % 1000}${counter}`.padStart(7, '0').slice(-7);
  return {
    email: `user${suffix}-${randomBytes(3).toString('hex')}@example.com`,
    password: 'correct horse battery staple',
    phone: `+81901${suffix}`,
  };
}

/** register → PIN from the fake → verify: a user with a full session. */
export async function registerAndVerify(t: TestApp, identity = newIdentity()) {
  const registered = await t.post('/auth/register', identity);
  if (registered.status !== 201) throw new Error(`register failed: ${JSON.stringify(registered.body)}`);
  const verified = await t.post(
    '/auth/2fa/verify',
    { pin: t.xoxzo.lastPinFor(identity.phone) },
    registered.body.accessToken,
  );
  if (verified.status !== 200) throw new Error(`verify failed: ${JSON.stringify(verified.body)}`);
  return {
    identity,
    partialToken: registered.body.accessToken as string,
    session: verified.body as { accessToken: string; refreshToken: string },
  };
}
