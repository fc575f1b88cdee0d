import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdtemp, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * The embedded cluster's superuser password: random per data folder, made when the folder's cluster is
 * initialised, kept in `<cluster dir>.password` (e.g. `DATA_DIR/postgres.password`, next to the cluster,
 * in the folder the app owns) with mode 0600. Only this Node process reads it: PostgreSQL gets the
 * password once, from a private copy, for initdb.
 */

export const USER = 'postgres';
/** What clusters made before the per-folder password had (see `adoptLegacyCluster`). */
export const LEGACY_PASSWORD = 'postgres';

const run = promisify(execFile);

export function passwordFileOf(clusterDir: string): string {
  return `${path.resolve(clusterDir)}.password`;
}

/** 32 random bytes, base64url (43 characters, nothing to escape in a URL or SQL literal). */
export function newPassword(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored password, or undefined when there is no file. A file others could read is made 0600 first. */
export async function readPassword(file: string): Promise<string | undefined> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!info) return undefined;
  if ((info.mode & 0o077) !== 0) await chmod(file, 0o600);
  const password = (await readFile(file, 'utf8')).trim();
  if (!password) throw new Error(`${file} is empty: delete it only together with its cluster folder`);
  return password;
}

/** Writes a fresh 0600 file (an older file of that name is replaced; a symlink in its place is not followed). */
export async function writePassword(file: string, password: string): Promise<void> {
  await unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600); // whatever the umask
}

/**
 * A copy of the password for initdb's `--pwfile`, in a private temporary folder: readable by the user
 * initdb runs as (`owner`, the `postgres` system user when we are root) and nobody else. `remove` deletes it.
 */
export async function initdbPasswordFile(
  password: string,
  owner?: { uid: number; gid: number },
): Promise<{ file: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'xoxzo-2fa-initdb-'));
  const file = path.join(dir, 'pwfile');
  await writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
  if (owner) {
    await chown(file, owner.uid, owner.gid);
    await chown(dir, owner.uid, owner.gid);
  }
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** As root, PostgreSQL runs as the `postgres` system user: its ids, after creating it if it is missing. */
export async function postgresSystemUser(): Promise<{ uid: number; gid: number }> {
  const ids = async () => ({
    uid: Number((await run('id', ['-u', USER])).stdout.trim()),
    gid: Number((await run('id', ['-g', USER])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    await run('groupadd', [USER]).catch(() => undefined); // the group may exist without the user
    await run('useradd', ['-g', USER, USER]);
    return ids();
  }
}

/**
 * A cluster initialised before the per-folder password (superuser password `postgres`, no password file):
 * gives it a random password with `ALTER ROLE` and stores it. Crash-safe: the new password is written to
 * `<file>.pending` before the `ALTER ROLE` and renamed to `<file>` after, and a pending file found here is
 * tried first (it may or may not have been applied).
 */
export async function adoptLegacyCluster(file: string, port: number): Promise<string> {
  const pending = `${file}.pending`;
  let password = await readPassword(pending);
  if (!password) {
    password = newPassword();
    await writePassword(pending, password);
  }
  if (!(await connects(port, password))) {
    const client = new pg.Client(clientOptions(port, LEGACY_PASSWORD));
    await client.connect().catch((error: unknown) => {
      throw new Error(
        `The embedded PostgreSQL next to ${file} has no password file and refuses the old default password ` +
          `(${String(error)}): restore ${file}, or delete the cluster folder to start afresh.`,
      );
    });
    try {
      await client.query(`ALTER ROLE ${USER} PASSWORD ${client.escapeLiteral(password)}`);
    } finally {
      await client.end();
    }
  }
  await rename(pending, file);
  return password;
}

async function connects(port: number, password: string): Promise<boolean> {
  const client = new pg.Client(clientOptions(port, password));
  try {
    await client.connect();
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '28P01') return false; // invalid_password
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function clientOptions(port: number, password: string): pg.ClientConfig {
  return { host: '127.0.0.1', port, user: USER, password, database: 'postgres' };
}
