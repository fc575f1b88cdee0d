import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ServerKeys } from './server-keys.js';

const SECRET = 'server-keys-spec-secret-0123456789abcdef';

describe(ServerKeys.name, () => {
  const keys = new ServerKeys({ secret: SECRET });

  it('derives HKDF-SHA256(root secret, salt xoxzo-2fa-auth, purpose), 32 bytes: the keys AuthKeys always had', () => {
    for (const purpose of ['jwt:partial', 'jwt:access', 'pin:hmac']) {
      const expected = Buffer.from(hkdfSync('sha256', SECRET, 'xoxzo-2fa-auth', purpose, 32));
      expect(keys.derive(purpose).equals(expected)).toBe(true);
    }
  });

  it('one key per purpose, the same each time, and another secret gives other keys', () => {
    expect(keys.derive('a').equals(keys.derive('a'))).toBe(true);
    expect(keys.derive('a').equals(keys.derive('b'))).toBe(false);
    expect(keys.derive('a').equals(new ServerKeys({ secret: `${SECRET}x` }).derive('a'))).toBe(false);
    expect(keys.derive('a')).toHaveLength(32);
  });
});
