import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ServerKeys } from '../common/index.js';
import { AuthKeys } from './auth-keys.js';

const SECRET = 'auth-keys-spec-secret-0123456789abcdef';

describe(AuthKeys.name, () => {
  it('keeps the keys it always derived from JWT_SECRET (tokens and PIN hashes issued before stay valid)', () => {
    const keys = new AuthKeys(new ServerKeys({ secret: SECRET }));
    const hkdf = (purpose: string) => Buffer.from(hkdfSync('sha256', SECRET, 'xoxzo-2fa-auth', purpose, 32));
    expect(keys.partialToken.equals(hkdf('jwt:partial'))).toBe(true);
    expect(keys.accessToken.equals(hkdf('jwt:access'))).toBe(true);
    expect(keys.pinHmac.equals(hkdf('pin:hmac'))).toBe(true);
    expect(
      new Set([keys.partialToken, keys.accessToken, keys.pinHmac].map((k) => k.toString('hex'))).size,
    ).toBe(3);
  });
});
