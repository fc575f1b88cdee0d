import { createHmac } from 'node:crypto';

/** Hand-made JWTs for the forgery tests: encode, decode and sign without going through the app's code. */

export type JwtPart = Record<string, unknown>;

export function b64url(value: JwtPart | Buffer | string): string {
  const bytes = Buffer.isBuffer(value)
    ? value
    : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
  return bytes.toString('base64url');
}

/** Header and payload of a compact JWT, without checking anything. */
export function decodeJwt(token: string): { header: JwtPart; payload: JwtPart; signature: string } {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as JwtPart,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JwtPart,
    signature,
  };
}

/**
 * Signs `header.payload` with HMAC (`sha256` unless told otherwise) whatever `header.alg` claims, so a
 * header can lie about the algorithm (HS/RS confusion) or a token can be signed with a foreign key.
 */
export function hmacJwt(
  header: JwtPart,
  payload: JwtPart,
  key: Buffer | string,
  hash: 'sha256' | 'sha384' | 'sha512' = 'sha256',
): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

/** An unsecured JWT (`alg: none`, empty signature). */
export function unsignedJwt(payload: JwtPart, header: JwtPart = { alg: 'none', typ: 'at+jwt' }): string {
  return `${b64url(header)}.${b64url(payload)}.`;
}
