import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { AppConfig, ConfigError, loadConfig } from './app-config.js';
import { isWeakSecret } from './auth/sessions/jwt.config.js';

const SECRET = 'a-test-jwt-secret-of-more-than-32-characters';
const XOXZO = { XOXZO_API_SID: 'ACsid0123', XOXZO_API_AUTH_TOKEN: 'token-0123' };
/** What production needs besides the secret and the Xoxzo credentials. */
const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: SECRET,
  DATABASE_URL: 'postgres://u:p@db.internal:5432/auth',
  SMS_ALLOWED_COUNTRIES: 'JP',
  ...XOXZO,
};

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
      expect(config.http).toEqual({ port: 3000, host: '127.0.0.1', trustProxy: false, corsOrigins: [] });
      expect(config.pin).toEqual({
        length: 6,
        ttlSeconds: 300,
        maxAttempts: 5,
        resendSeconds: 30,
        checksPerAccount15Min: 10,
        consecutiveFailureLimit: 20,
        lockoutSeconds: 86400,
        brand: 'XOXZO',
        appOriginDomain: undefined,
        smsLimits: {
          perPhoneHour: 5,
          perPhoneDay: 10,
          perAccountHour: 10,
          perIpHour: 10,
          globalPerMinute: 100,
          newNumbersGlobalPerMinute: 50,
        },
      });
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
      const config = loadConfig(PRODUCTION);
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
      expect(config.http).toEqual({ port: 8080, host: '::1', trustProxy: false, corsOrigins: [] });
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
      expectRejected({ JWT_SECRET: SECRET.slice(0, 31) }, 'JWT_SECRET');
      expect(loadConfig({ JWT_SECRET: SECRET.slice(0, 32) }).jwt.secret).toBe(SECRET.slice(0, 32));
    });

    it('production without JWT_SECRET', () => {
      expectRejected({ NODE_ENV: 'production', ...XOXZO }, 'JWT_SECRET');
    });

    it('production falling back to the console driver without SMS_DRIVER=console', () => {
      expectRejected({ NODE_ENV: 'production', JWT_SECRET: SECRET }, 'SMS_DRIVER');
    });

    it('refuses production with SMS_DRIVER=console, even set explicitly', () => {
      const error = expectRejected({ ...PRODUCTION, SMS_DRIVER: 'console' }, 'SMS_DRIVER');
      expect(error.message).toContain('refused when NODE_ENV=production');
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

  describe('TRUST_PROXY', () => {
    it.each([undefined, '', 'false'])('off for %p', (value) => {
      expect(loadConfig({ TRUST_PROXY: value }).http.trustProxy).toBe(false);
    });

    it.each([
      ['an IPv4 address', '127.0.0.1', ['127.0.0.1']],
      ['an IPv6 address', '::1', ['::1']],
      ['IPv4 and IPv6 CIDRs', '10.0.0.0/8, fd00::/32', ['10.0.0.0/8', 'fd00::/32']],
      [
        'the widest and narrowest prefixes',
        '10.0.0.0/8,1.2.3.4/32,2001:db8::/32,::1/128',
        ['10.0.0.0/8', '1.2.3.4/32', '2001:db8::/32', '::1/128'],
      ],
      ['the keywords', 'loopback,linklocal,uniquelocal', ['loopback', 'linklocal', 'uniquelocal']],
      ['a mix', 'loopback, 192.168.1.10 ,2001:db8::/32', ['loopback', '192.168.1.10', '2001:db8::/32']],
    ])('accepts %s', (_label, value, expected) => {
      expect(loadConfig({ TRUST_PROXY: value }).http.trustProxy).toEqual(expected);
    });

    it.each([
      ['true', 'true'],
      ['a hop count', '1'],
      ['a wildcard', '*'],
      ['a host name', 'proxy.internal'],
      ['a keyword in another case', 'Loopback'],
      ['a bad address among good ones', '127.0.0.1,10.0.0.300'],
      ['an IPv4 prefix above 32', '10.0.0.0/33'],
      ['an IPv6 prefix above 128', '::/129'],
      ['a zero prefix (everyone)', '0.0.0.0/0'],
      ['an IPv4 prefix wider than /8', '10.0.0.0/7'],
      ['an IPv6 prefix wider than /32', 'fc00::/7'],
      ['half the IPv4 Internet', '0.0.0.0/1'],
      ['a netmask', '10.0.0.0/255.0.0.0'],
      ['a signed prefix', '10.0.0.0/+8'],
      ['an empty prefix', '10.0.0.0/'],
      ['only commas', ',,'],
    ])('refuses %s', (_label, value) => {
      const error = expectRejected({ TRUST_PROXY: value }, 'TRUST_PROXY');
      const problem = error.problems.find((p) => p.startsWith('TRUST_PROXY'));
      expect(problem).toMatch(/false.*IP addresses.*CIDRs.*loopback, linklocal, uniquelocal/);
    });

    it('names only the refused entries', () => {
      const error = expectRejected({ TRUST_PROXY: '127.0.0.1,true,::1' }, 'TRUST_PROXY');
      const problem = error.problems.find((p) => p.startsWith('TRUST_PROXY')) ?? '';
      expect(problem).toContain('"true"');
      expect(problem).not.toContain('127.0.0.1');
    });
  });

  describe('SMS_TEST_NUMBERS', () => {
    it('accepts valid numbers with PINs of PIN_LENGTH digits, keyed by their E.164 form', () => {
      const config = loadConfig({ SMS_TEST_NUMBERS: '+12015550123:123456, +81 90 1234 5678:000000' });
      expect([...config.sms.testNumbers]).toEqual([
        ['+12015550123', '123456'],
        ['+819012345678', '000000'],
      ]);
      const eight = loadConfig({ PIN_LENGTH: '8', SMS_TEST_NUMBERS: '+12015550123:12345678' });
      expect(eight.sms.testNumbers.get('+12015550123')).toBe('12345678');
    });

    it.each([
      ['a number no registration accepts', '+15555550100:987654', '"+15555550100"'],
      ['a local number', '09012345678:987654', 'entry 1'],
      ['a kept trunk 0', '+81 090 1234 5678:987654', '"+81 090 1234 5678"'],
      ['letters', 'phone:987654', 'entry 1'],
      ['a swapped entry (never shown: it is the PIN)', '987654:+12015550123', 'entry 1'],
      ['a second colon', '+12015550123:98:7654', 'PIN for +12015550123'],
    ])('refuses %s, naming the number (or only the entry), never the PIN', (_label, value, shown) => {
      const error = expectRejected({ SMS_TEST_NUMBERS: value }, 'SMS_TEST_NUMBERS');
      expect(error.message).toContain(shown);
      expect(error.message).not.toContain('987654');
    });

    it.each([
      ['too short', '12345'],
      ['too long', '1234567'],
      ['not digits', '12345a'],
      ['empty', ''],
    ])('refuses a PIN %s for PIN_LENGTH=6, naming the number but not the PIN', (_label, pin) => {
      const error = expectRejected({ SMS_TEST_NUMBERS: `+12015550123:${pin}` }, 'SMS_TEST_NUMBERS');
      const problem = error.problems.find((p) => p.startsWith('SMS_TEST_NUMBERS')) ?? '';
      expect(problem).toContain('+12015550123');
      expect(problem).toContain('6 digits');
      if (pin) expect(error.message).not.toContain(pin);
    });

    it('checks the PIN against PIN_LENGTH', () => {
      expectRejected({ PIN_LENGTH: '8', SMS_TEST_NUMBERS: '+12015550123:123456' }, 'SMS_TEST_NUMBERS');
      expect(
        loadConfig({ PIN_LENGTH: '4', SMS_TEST_NUMBERS: '+12015550123:1234' }).sms.testNumbers.size,
      ).toBe(1);
    });

    it('refuses an entry without a PIN, without echoing it', () => {
      const error = expectRejected(
        { SMS_TEST_NUMBERS: '+12015550123:123456,+12015550124' },
        'SMS_TEST_NUMBERS',
      );
      expect(error.message).toContain('entry 2');
    });

    it('refuses a number listed twice (also when written differently)', () => {
      const error = expectRejected(
        { SMS_TEST_NUMBERS: '+12015550123:123456,+1 201 555 0123:654321' },
        'SMS_TEST_NUMBERS',
      );
      expect(error.message).toContain('+12015550123 is listed more than once');
      expect(error.message).not.toContain('654321');
    });

    it('reports every bad entry at once', () => {
      const error = rejectionOf({
        SMS_TEST_NUMBERS: '+15555550100:123456,+12015550123:1,+12015550124:123456',
      });
      expect(error.problems.filter((p) => p.startsWith('SMS_TEST_NUMBERS'))).toHaveLength(2);
    });
  });

  describe('APP_ORIGIN_DOMAIN', () => {
    /** An ASCII host name of exactly `length` characters. */
    const domainOf = (length: number) => `${'a'.repeat(length - 4)}.com`;

    it('accepts a domain up to 35 characters with the default SMS_BRAND (every locale, 8-digit PIN, 10 minutes: one segment)', () => {
      expect(loadConfig({ APP_ORIGIN_DOMAIN: 'App.Example.com' }).pin.appOriginDomain).toBe(
        'app.example.com',
      );
      expect(loadConfig({ APP_ORIGIN_DOMAIN: domainOf(35) }).pin.appOriginDomain).toBe(domainOf(35));
    });

    it('refuses a longer one, saying how long it may be with this brand', () => {
      const error = expectRejected({ APP_ORIGIN_DOMAIN: domainOf(36) }, 'APP_ORIGIN_DOMAIN');
      expect(error.message).toContain('at most 35 characters');
      const longer = expectRejected(
        { APP_ORIGIN_DOMAIN: domainOf(36), SMS_BRAND: 'AcmeBank' },
        'APP_ORIGIN_DOMAIN',
      );
      expect(longer.message).toContain('at most 32 characters');
    });

    it('refuses what is not a host name', () => {
      expectRejected({ APP_ORIGIN_DOMAIN: 'https://app.example.com' }, 'APP_ORIGIN_DOMAIN');
    });
  });

  describe('SMS_BRAND', () => {
    it('names the service in the PIN SMS (default XOXZO)', () => {
      expect(loadConfig({}).pin.brand).toBe('XOXZO');
      expect(loadConfig({ SMS_BRAND: ' ACME ' }).pin.brand).toBe('ACME');
    });

    it.each([
      ['an @, which would break the WebOTP line', 'AC@ME'],
      ['a #', 'ACME#1'],
      ['a new line', 'AC\nME'],
      ['21 characters', 'A'.repeat(21)],
    ])('refuses %s', (_label, brand) => {
      expectRejected({ SMS_BRAND: brand }, 'SMS_BRAND');
    });
  });

  describe('XOXZO_TEMPLATE_IDS', () => {
    it('accepts one template per locale', () => {
      expect(loadConfig({ XOXZO_TEMPLATE_IDS: 'en:11,ja:12' }).sms.xoxzo.templates.byLocale).toEqual({
        en: '11',
        ja: '12',
      });
    });

    it.each(['en:1,en:2', 'en:1,ja:2,en:1'])('refuses a locale given twice (%s)', (value) => {
      const error = expectRejected({ XOXZO_TEMPLATE_IDS: value }, 'XOXZO_TEMPLATE_IDS');
      expect(error.message).toContain('locale en');
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

    it('reports the new checks together with the rest', () => {
      const error = rejectionOf({
        PORT: 'abc',
        TRUST_PROXY: 'true',
        SMS_TEST_NUMBERS: '+15555550100:123456',
        APP_ORIGIN_DOMAIN: `${'a'.repeat(60)}.com`,
        XOXZO_TEMPLATE_IDS: 'en:1,en:2',
      });
      const named = error.problems.map((p) => p.split(':')[0]);
      expect(named).toEqual(
        expect.arrayContaining([
          'PORT',
          'TRUST_PROXY',
          'SMS_TEST_NUMBERS',
          'APP_ORIGIN_DOMAIN',
          'XOXZO_TEMPLATE_IDS',
        ]),
      );
    });

    it('does not check test-number PINs against a PIN_LENGTH that is itself invalid', () => {
      const error = rejectionOf({ PIN_LENGTH: '12', SMS_TEST_NUMBERS: '+12015550123:123456' });
      expect(error.problems.map((p) => p.split(':')[0])).toEqual(['PIN_LENGTH']);
    });
  });
});

describe('SMS provider settings that would fail at send time are refused at boot', () => {
  it('SMS_ALLOWED_COUNTRIES with a code that is not ISO 3166 (UK)', () => {
    expect(() => loadConfig({ SMS_ALLOWED_COUNTRIES: 'JP,UK' })).toThrow(/SMS_ALLOWED_COUNTRIES: UK/);
    expect(loadConfig({ SMS_ALLOWED_COUNTRIES: 'jp,GB' }).phone.allowedCountries).toEqual(['JP', 'GB']);
  });

  it('XOXZO_TEMPLATE_IDS that leave a PIN locale without a template, or name one without a PIN text', () => {
    expect(() => loadConfig({ XOXZO_TEMPLATE_IDS: 'ja:13' })).toThrow(/no template for en/);
    expect(() => loadConfig({ XOXZO_TEMPLATE_IDS: 'en:12,ja:13,fr:14' })).toThrow(/no PIN text for fr/);
    expect(
      loadConfig({ XOXZO_TEMPLATE_IDS: 'ja:13', XOXZO_TEMPLATE_ID: '12' }).sms.xoxzo.templates,
    ).toMatchObject({
      byLocale: { ja: '13' },
      default: '12',
    });
    expect(loadConfig({ XOXZO_TEMPLATE_IDS: 'en:12,ja:13' }).sms.xoxzo.templates.byLocale).toEqual({
      en: '12',
      ja: '13',
    });
  });

  it('SESSION_MAX_SECONDS defaults to 90 days; PIN_TTL_SECONDS is at least a minute', () => {
    expect(loadConfig({}).jwt.sessionMaxSeconds).toBe(7776000);
    expect(() => loadConfig({ PIN_TTL_SECONDS: '59' })).toThrow(/PIN_TTL_SECONDS/);
  });
});

describe('production fails closed', () => {
  it('accepts the documented production setup', () => {
    const config = loadConfig(PRODUCTION);
    expect(config.sms.driver).toBe('xoxzo');
    expect(config.phone.allowedCountries).toEqual(['JP']);
    expect(config.warnings).toEqual([]);
  });

  it.each(['0.0.0.0', '::', '192.168.1.20', 'example.com'])(
    'refuses HOST=%s outside production, naming NODE_ENV',
    (host) => {
      for (const nodeEnv of ['development', 'test']) {
        const error = expectRejected({ NODE_ENV: nodeEnv, HOST: host }, 'HOST');
        expect(error.message).toContain('NODE_ENV');
      }
    },
  );

  it.each(['127.0.0.1', '127.10.0.1', '::1', 'localhost'])(
    'accepts HOST=%s (loopback) outside production',
    (host) => {
      expect(loadConfig({ HOST: host }).http.host).toBe(host);
    },
  );

  it('requires DATABASE_URL (no embedded PostgreSQL in production)', () => {
    const { DATABASE_URL: _omitted, ...rest } = PRODUCTION;
    expectRejected(rest, 'DATABASE_URL');
  });

  it('requires SMS_ALLOWED_COUNTRIES; * is the explicit opt-out, logged as a warning', () => {
    const { SMS_ALLOWED_COUNTRIES: _omitted, ...rest } = PRODUCTION;
    expectRejected(rest, 'SMS_ALLOWED_COUNTRIES');
    const anywhere = loadConfig({ ...PRODUCTION, SMS_ALLOWED_COUNTRIES: '*' });
    expect(anywhere.phone.allowedCountries).toEqual([]);
    expect(anywhere.warnings).toEqual([expect.stringContaining('SMS_ALLOWED_COUNTRIES=*')]);
    expect(loadConfig({ SMS_ALLOWED_COUNTRIES: '*' }).phone.allowedCountries).toEqual([]);
  });

  it('requires an https XOXZO_API_URL, a loopback host excepted', () => {
    expectRejected({ ...PRODUCTION, XOXZO_API_URL: 'http://sms.example.com' }, 'XOXZO_API_URL');
    for (const url of [
      'http://127.0.0.1:8080',
      'http://localhost:9000',
      'http://[::1]:9000',
      'https://api.xoxzo.com',
    ]) {
      expect(loadConfig({ ...PRODUCTION, XOXZO_API_URL: url }).sms.xoxzo.apiUrl).toBe(url);
    }
    expect(loadConfig({ XOXZO_API_URL: 'http://sms.example.com' }).sms.xoxzo.apiUrl).toBe(
      'http://sms.example.com',
    );
  });

  it.each([
    ['PIN_LENGTH', '5'],
    ['PIN_MAX_ATTEMPTS', '11'],
    ['REFRESH_REUSE_GRACE_SECONDS', '11'],
    ['SMS_LIMIT_PER_PHONE_HOUR', '0'],
    ['SMS_LIMIT_PER_PHONE_DAY', '0'],
    ['SMS_LIMIT_PER_ACCOUNT_HOUR', '0'],
    ['SMS_LIMIT_PER_IP_HOUR', '0'],
    ['SMS_LIMIT_GLOBAL_PER_MINUTE', '0'],
    ['REGISTRATION_SMS_LIMIT_GLOBAL_PER_MINUTE', '0'],
    ['REGISTRATION_LIMIT_PER_IP_HOUR', '0'],
    ['REGISTRATION_LIMIT_PER_EMAIL_HOUR', '0'],
    ['LOGIN_LIMIT_PER_IP_15MIN', '0'],
    ['LOGIN_LOCKOUT_THRESHOLD', '0'],
    ['PIN_CHECKS_PER_ACCOUNT_15MIN', '0'],
    ['FRAUD_GUARD', 'off'],
    ['FRAUD_GUARD_MIN_VERIFY_RATE', '0'],
    ['FRAUD_GUARD_MIN_SENT', '5000'],
  ])('refuses the weakening %s=%s unless UNSAFE_SETTINGS names it (then warns)', (name, value) => {
    const error = expectRejected({ ...PRODUCTION, [name]: value }, name);
    expect(error.message).toContain('UNSAFE_SETTINGS');
    const accepted = loadConfig({ ...PRODUCTION, [name]: value, UNSAFE_SETTINGS: `PIN_LENGTH, ${name}` });
    expect(accepted.warnings).toEqual([expect.stringContaining(name)]);
    // Outside production the same setting is simply taken (tests, local experiments).
    expect(() => loadConfig({ [name]: value })).not.toThrow();
  });

  it('accepts the safe ends of those ranges without UNSAFE_SETTINGS', () => {
    const config = loadConfig({
      ...PRODUCTION,
      PIN_LENGTH: '6',
      PIN_MAX_ATTEMPTS: '10',
      REFRESH_REUSE_GRACE_SECONDS: '10',
    });
    expect(config.warnings).toEqual([]);
  });
});

describe('JWT_SECRET strength', () => {
  it.each([
    ['one character repeated', 'a'.repeat(32)],
    ['a 4-character pattern repeated', 'abcd'.repeat(8)],
    ['fewer than 8 distinct characters', 'abcdefgabcdefgabcdefgabcdefgabcd'],
    ['an 8-character pattern repeated', 'abcdefgh'.repeat(4)],
    ['a 16-character pattern repeated', 'correct-horse-01'.repeat(3)],
  ])('refuses %s', (_label, secret) => {
    expectRejected({ JWT_SECRET: secret }, 'JWT_SECRET');
  });

  it('accepts every output of `openssl rand -hex 32` and `openssl rand -base64 48` (1000 of each)', () => {
    for (let i = 0; i < 1000; i++) {
      for (const secret of [randomBytes(32).toString('hex'), randomBytes(48).toString('base64')]) {
        expect(isWeakSecret(secret)).toBe(false);
      }
    }
    expect(loadConfig({ JWT_SECRET: randomBytes(32).toString('hex') }).jwt.secretGenerated).toBe(false);
  });
});

describe('SMS_BLOCKED_PREFIXES', () => {
  it('defaults to known toll-fraud ranges', () => {
    expect(loadConfig({}).phone.blockedPrefixes).toEqual(['+7840', '+7940', '+99544']);
  });

  it('adds E.164 prefixes to the defaults, and refuses anything else', () => {
    expect(loadConfig({ SMS_BLOCKED_PREFIXES: '+7840, +4470' }).phone.blockedPrefixes).toEqual([
      '+7840',
      '+7940',
      '+99544',
      '+4470',
    ]);
    expectRejected({ SMS_BLOCKED_PREFIXES: '7840' }, 'SMS_BLOCKED_PREFIXES');
    expectRejected({ SMS_BLOCKED_PREFIXES: '+78a0' }, 'SMS_BLOCKED_PREFIXES');
  });
});

describe('fraud guard settings', () => {
  it('is on by default: 30 sent, under 20 % verified, over 60 minutes → a 30-minute pause', () => {
    expect(loadConfig({}).fraudGuard).toEqual({
      enabled: true,
      windowMinutes: 60,
      minSent: 30,
      minVerifyRate: 0.2,
      pauseMinutes: 30,
    });
  });

  it.each([
    ['FRAUD_GUARD', 'maybe'],
    ['FRAUD_GUARD_MIN_VERIFY_RATE', '1.5'],
    ['FRAUD_GUARD_MIN_VERIFY_RATE', 'half'],
    ['FRAUD_GUARD_WINDOW_MINUTES', '1'],
  ])('refuses %s=%s', (name, value) => {
    expectRejected({ [name]: value }, name);
  });
});
