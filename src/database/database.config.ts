import { z } from 'zod';
import { type Env, optionalString } from '../config/index.js';

/** `DATABASE_URL` (unset: the embedded PostgreSQL under `DATA_DIR/postgres`, development only). */
export function loadDatabaseConfig(env: Env) {
  return {
    url: env.read(
      'DATABASE_URL',
      optionalString.pipe(
        z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
          .optional(),
      ),
    ),
    dataDir: env.read('DATA_DIR', z.string().trim().min(1).default('./.data')),
  };
}

export abstract class DatabaseConfig {}
export interface DatabaseConfig extends ReturnType<typeof loadDatabaseConfig> {}
