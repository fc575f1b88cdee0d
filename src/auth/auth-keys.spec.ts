import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ServerKeys } from '../common/index.js';
import { AuthKeys } from './auth-keys.js';

const SECRET = 'auth-keys-spec-secret-0123456789abcdef';
const keysOf = (secret: string) => new AuthKeys(new ServerKeys({ secret }));

describe(AuthKeys.name, () => {
  it('derives the existing keys byte-for-byte as before (tokens and PINs in flight stay valid)', () => {
    const keys = keysOf(SECRET);
    expect(keys.partialToken.toString('hex')).toBe(
      '4168b04ef433a1138c437c803327f511d830070a8174565a06541dd0fc8a47c9',
    );
    expect(keys.accessToken.toString('hex')).toBe(
      '670d11273468240b1c17a76571f35e08a99ffc87d83b64962bb8c4f18139690c',
    );
    expect(keys.pinHmac.toString('hex')).toBe(
      'eb70839b85f4989683d88ddb51381e5c62fb026e3bf7acade6976e045e7e054e',
    );
    const hkdf = (purpose: string) => Buffer.from(hkdfSync('sha256', SECRET, 'xoxzo-2fa-auth', purpose, 32));
    expect(keys.partialToken.equals(hkdf('jwt:partial'))).toBe(true);
  });

  it('derives the refresh-successor key for its own purpose: 32 bytes, unlike every other key', () => {
    const keys = keysOf(SECRET);
    expect(keys.refreshSuccessor.toString('hex')).toBe(
      '0328cf186dfe10f696b4d261313a43ed3c189492b90eaccd24655cab331692db',
    );
    const all = [keys.partialToken, keys.accessToken, keys.pinHmac, keys.refreshSuccessor];
    expect(new Set(all.map((k) => k.toString('hex'))).size).toBe(all.length);
    expect(
      keysOf('another-secret-of-enough-length-0123456789').refreshSuccessor.equals(keys.refreshSuccessor),
    ).toBe(false);
  });
});
