import { hkdfSync } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { JwtConfig } from './sessions/jwt.config.js';

/**
 * Independent keys derived from JWT_SECRET with HKDF-SHA256, one per purpose: a partial token cannot verify
 * as a full token (or the reverse) even before `typ`/`aud` are checked, the PIN HMAC key is not a signing
 * key, and the key that derives a refresh token's successor is neither.
 */
@Injectable()
export class AuthKeys {
  readonly partialToken: Buffer;
  readonly accessToken: Buffer;
  readonly pinHmac: Buffer;
  /** HMAC key of `TokensService.successorRefreshToken` (the successor cannot be computed without it). */
  readonly refreshSuccessor: Buffer;

  constructor(jwt: JwtConfig) {
    const derive = (purpose: string) =>
      Buffer.from(hkdfSync('sha256', jwt.secret, 'xoxzo-2fa-auth', purpose, 32));
    this.partialToken = derive('jwt:partial');
    this.accessToken = derive('jwt:access');
    this.pinHmac = derive('pin:hmac');
    this.refreshSuccessor = derive('refresh:successor');
  }
}
