import { hkdfSync } from 'node:crypto';
import { Injectable } from '@nestjs/common';

/**
 * The server's root secret (DI token). Its one source is `JWT_SECRET`, read by the JWT config slice
 * (`src/auth/sessions/jwt.config.ts`) and provided under this token by `configModule`; nothing else reads it.
 */
export abstract class ServerSecret {
  abstract readonly secret: string;
}

/** Shared by every derived key: changing it would change every key (tokens, PIN hashes, report links). */
const SALT = 'xoxzo-2fa-auth';

/**
 * Independent keys derived from the root secret with HKDF-SHA256, one per purpose (`jwt:access`,
 * `sms:delivery-report`, …): a key for one purpose says nothing about another's, and no module needs the
 * root secret itself. Any module may inject it; pick a purpose no other module uses.
 */
@Injectable()
export class ServerKeys {
  constructor(private readonly root: ServerSecret) {}

  /** The 32-byte key for `purpose`; the same purpose always gives the same key. */
  derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.root.secret, SALT, purpose, 32));
  }
}
