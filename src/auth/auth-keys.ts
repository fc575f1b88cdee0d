import { Injectable } from '@nestjs/common';
import { ServerKeys } from '../common/index.js';

/**
 * Auth's keys, derived from the server's root secret (JWT_SECRET) by `ServerKeys`, one per purpose: a
 * partial token cannot verify as a full token (or the reverse) even before `typ`/`aud` are checked, the PIN
 * HMAC key is not a signing key, and the key that derives a refresh token's successor is neither.
 */
@Injectable()
export class AuthKeys {
  readonly partialToken: Buffer;
  readonly accessToken: Buffer;
  readonly pinHmac: Buffer;
  /** HMAC key of `TokensService.successorRefreshToken` (the successor cannot be computed without it). */
  readonly refreshSuccessor: Buffer;

  constructor(keys: ServerKeys) {
    this.partialToken = keys.derive('jwt:partial');
    this.accessToken = keys.derive('jwt:access');
    this.pinHmac = keys.derive('pin:hmac');
    this.refreshSuccessor = keys.derive('refresh:successor');
  }
}
