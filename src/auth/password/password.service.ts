import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { Injectable } from '@nestjs/common';

/** argon2id at OWASP's minimum (19 MiB, t=2, p=1); the parameters live in each hash, so they can grow. */
// `Algorithm` is an ambient const enum (not importable as a value under isolatedModules): 2 is Argon2id.
const ARGON2_OPTIONS = { algorithm: 2 as Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };

@Injectable()
export class PasswordService {
  /** Verified when the email is unknown, so both failures cost the same time. */
  private readonly dummyHash: Promise<string> = hash('not-a-real-password-0f9c', ARGON2_OPTIONS);

  hash(password: string): Promise<string> {
    return hash(password, ARGON2_OPTIONS);
  }

  async verify(passwordHash: string | undefined, password: string): Promise<boolean> {
    const target = passwordHash ?? (await this.dummyHash);
    const ok = await verify(target, password).catch(() => false);
    return ok && passwordHash !== undefined;
  }
}
