import { z } from 'zod';
import { type Env, optionalString } from '../config/index.js';

/** `DATABASE_URL` (unset: the embedded PostgreSQL under `DATA_DIR/postgres`, development only). */
export function loadDatabaseConfig(env: Env) {
  const url = env.read(
    'DATABASE_URL',
    optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    ),
  );
  if (env.production && !url) {
    env.problem(
      'DATABASE_URL',
      'required when NODE_ENV=production (the embedded PostgreSQL is for development)',
    );
  }
  return {
    url,
    dataDir: env.read('DATA_DIR', z.string().trim().min(1).default('./.data')),
  };
}

export abstract class DatabaseConfig {}
export interface DatabaseConfig extends ReturnType<typeof loadDatabaseConfig> {}
