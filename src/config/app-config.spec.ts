import { describe, expect, it } from '@jest/globals';
import { AppConfig, ConfigError, loadConfig } from './app-config.js';

const SECRET = 'a-test-jwt-secret-of-more-than-32-characters';
const XOXZO = { XOXZO_API_SID: 'ACsid0123', XOXZO_API_AUTH_TOKEN: 'token-0123' };

/** The ConfigError `loadConfig` throws for this environment (fails the test if it throws nothing else). */
function rejectionOf(env: Record<string, string | undefined>): ConfigError {
  let thrown: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

/** Asserts the environment is refused and that the error names `variable` (in `problems` and the message). */
function expectRejected(env: Record<string, string | undefined>, variable: string): ConfigError {
  const error = rejectionOf(env);
  expect(error.problems).toEqual(
    expect.arrayContaining([expect.stringMatching(new RegExp(`^${variable}\\b`))]),
  );
  expect(error.message).toContain(variable);
  return error;
}

describe(loadConfig.name, () => {
  describe('defaults', () => {
    it('gives the documented defaults for an empty environment', () => {
      const config: AppConfig = loadConfig({});
      expect(config.nodeEnv).toBe('development');
      expect(config.http).toEqual({ port: 3000, host: '127.0.0.1' });
      expect(config.pin).toEqual({ length: 6, ttlSeconds: 300, maxAttempts: 5, resendSeconds: 30 });
      expect(config.jwt).toMatchObject({
        partialTokenTtlSeconds: 600,
        accessTokenTtlSeconds: 900,
        refreshTokenTtlSeconds: 2592000,
      });
      expect(config.sms.driver).toBe('console');
      expect(config.sms.xoxzo).toMatchObject({
        apiUrl: 'https://api.xoxzo.com',
        sender: 'XOXZO',
        timeoutMs: 5000,
      });
    });

    it('generates a JWT secret outside production when none is set, and says so', () => {
      const config = loadConfig({}, () => 'generated-secret-generated-secret-123');
      expect(config.jwt.secret).toBe('generated-secret-generated-secret-123');
      expect(config.jwt.secretGenerated).toBe(true);
      const configured = loadConfig({ JWT_SECRET: SECRET });
      expect(configured.jwt.secret).toBe(SECRET);
      expect(configured.jwt.secretGenerated).toBe(false);
    });

    it('listens on 0.0.0.0 in production', () => {
      const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, ...XOXZO });
      expect(config.http.host).toBe('0.0.0.0');
      expect(config.http.port).toBe(3000);
    });

    it('uses the console driver without XOXZO_API_SID and xoxzo with it', () => {
      expect(loadConfig({}).sms.driver).toBe('console');
      const config = loadConfig(XOXZO);
      expect(config.sms.driver).toBe('xoxzo');
      expect(config.sms.xoxzo).toMatchObject({ sid: 'ACsid0123', authToken: 'token-0123' });
    });

    it('trims the trailing slash of XOXZO_API_URL', () => {
      expect(loadConfig({ XOXZO_API_URL: 'http://127.0.0.1:8080/' }).sms.xoxzo.apiUrl).toBe(
        'http://127.0.0.1:8080',
      );
      expect(loadConfig({ XOXZO_API_URL: 'https://sms.example.com/v1//' }).sms.xoxzo.apiUrl).toBe(
        'https://sms.example.com/v1',
      );
    });

    it('treats a numeric variable set to an empty string as unset', () => {
      const config = loadConfig({ PORT: '', PIN_LENGTH: ' ' });
      expect(config.http.port).toBe(3000);
      expect(config.pin.length).toBe(6);
    });

    it('accepts explicit in-range values', () => {
      const config = loadConfig({
        PORT: '8080',
        HOST: '::1',
        PIN_LENGTH: '8',
        PIN_TTL_SECONDS: '120',
        DATABASE_URL: 'postgresql://u:p@localhost:5432/db',
      });
      expect(config.http).toEqual({ port: 8080, host: '::1' });
      expect(config.pin.length).toBe(8);
      expect(config.pin.ttlSeconds).toBe(120);
      expect(config.database.url).toBe('postgresql://u:p@localhost:5432/db');
    });
  });

  describe('rejections name the variable', () => {
    it.each(['3', '9'])('PIN_LENGTH=%s', (value) => {
      expectRejected({ PIN_LENGTH: value }, 'PIN_LENGTH');
    });

    it.each(['4', '8'])('accepts PIN_LENGTH=%s', (value) => {
      expect(loadConfig({ PIN_LENGTH: value }).pin.length).toBe(Number(value));
    });

    it('non-numeric PORT', () => {
      expectRejected({ PORT: 'http' }, 'PORT');
    });

    it('JWT_SECRET shorter than 32 characters', () => {
      expectRejected({ JWT_SECRET: 'x'.repeat(31) }, 'JWT_SECRET');
      expect(loadConfig({ JWT_SECRET: 'x'.repeat(32) }).jwt.secret).toBe('x'.repeat(32));
    });

    it('production without JWT_SECRET', () => {
      expectRejected({ NODE_ENV: 'production', ...XOXZO }, 'JWT_SECRET');
    });

    it('production falling back to the console driver without SMS_DRIVER=console', () => {
      expectRejected({ NODE_ENV: 'production', JWT_SECRET: SECRET }, 'SMS_DRIVER');
    });

    it('accepts production with SMS_DRIVER=console set explicitly', () => {
      const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, SMS_DRIVER: 'console' });
      expect(config.sms.driver).toBe('console');
    });

    it('SMS_DRIVER=xoxzo without SID and token', () => {
      const error = expectRejected({ SMS_DRIVER: 'xoxzo' }, 'XOXZO_API_SID');
      expect(error.problems).toEqual(
        expect.arrayContaining([expect.stringMatching(/^XOXZO_API_AUTH_TOKEN\b/)]),
      );
      expectRejected({ SMS_DRIVER: 'xoxzo', XOXZO_API_SID: 'ACsid' }, 'XOXZO_API_AUTH_TOKEN');
      expectRejected({ SMS_DRIVER: 'xoxzo', XOXZO_API_AUTH_TOKEN: 'tok' }, 'XOXZO_API_SID');
    });

    it.each([
      ['a + phone number', '+818012345678'],
      ['11 letters', 'ABCDEFGHIJK'],
      ['16 digits', '1234567890123456'],
      ['a space', 'MY APP'],
      ['an empty value', ''],
    ])('XOXZO_SENDER with %s', (_label, sender) => {
      expectRejected({ XOXZO_SENDER: sender }, 'XOXZO_SENDER');
    });

    it.each([
      ['10 letters', 'ABCDEFGHIJ'],
      ['15 digits', '818012345678901'],
    ])('accepts XOXZO_SENDER with %s', (_label, sender) => {
      expect(loadConfig({ XOXZO_SENDER: sender }).sms.xoxzo.sender).toBe(sender);
    });

    it('PIN_TTL_SECONDS above PARTIAL_TOKEN_TTL_SECONDS', () => {
      expectRejected({ PIN_TTL_SECONDS: '600', PARTIAL_TOKEN_TTL_SECONDS: '300' }, 'PIN_TTL_SECONDS');
      expect(loadConfig({ PIN_TTL_SECONDS: '300', PARTIAL_TOKEN_TTL_SECONDS: '300' }).pin.ttlSeconds).toBe(
        300,
      );
    });

    it('DATABASE_URL that is not postgres://', () => {
      expectRejected({ DATABASE_URL: 'mysql://u:p@localhost/db' }, 'DATABASE_URL');
      expect(loadConfig({ DATABASE_URL: 'postgres://localhost/db' }).database.url).toBe(
        'postgres://localhost/db',
      );
    });
  });

  describe('several problems', () => {
    it('reports every malformed variable at once', () => {
      const error = rejectionOf({
        PORT: 'abc',
        PIN_LENGTH: '3',
        XOXZO_SENDER: '+8190',
        DATABASE_URL: 'mysql://x',
      });
      const named = error.problems.map((p) => p.split(':')[0]);
      expect(named).toEqual(expect.arrayContaining(['PORT', 'PIN_LENGTH', 'XOXZO_SENDER', 'DATABASE_URL']));
    });

    it('reports every cross-variable problem at once', () => {
      const error = rejectionOf({
        NODE_ENV: 'production',
        SMS_DRIVER: 'xoxzo',
        PIN_TTL_SECONDS: '600',
        PARTIAL_TOKEN_TTL_SECONDS: '300',
      });
      const named = error.problems.map((p) => p.split(':')[0]);
      expect(named).toEqual(
        expect.arrayContaining(['JWT_SECRET', 'XOXZO_API_SID', 'XOXZO_API_AUTH_TOKEN', 'PIN_TTL_SECONDS']),
      );
    });

    it('reports malformed and cross-variable problems together', () => {
      // One boot should show the operator everything to fix, not one batch per restart.
      const error = rejectionOf({ NODE_ENV: 'production', PORT: 'abc', SMS_DRIVER: 'console' });
      const named = error.problems.map((p) => p.split(':')[0]);
      expect(named).toEqual(expect.arrayContaining(['PORT', 'JWT_SECRET']));
    });
  });
});
