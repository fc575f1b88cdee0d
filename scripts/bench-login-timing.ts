/**
 * Login timing benchmark: does `POST /auth/login` answer an unknown email as fast as a known email with a
 * wrong password? (User enumeration by timing; see SECURITY.md.)
 *
 *   npm run bench:login-timing                    # N = 300 per case
 *   node --import tsx scripts/bench-login-timing.ts --n 1000
 *
 * Starts a throw-away embedded PostgreSQL, builds the real application (`createApp`, console SMS driver,
 * abuse limits off as in the e2e tests), listens on 127.0.0.1 only, registers one user, then times login
 * requests over real HTTP, interleaved (a b, b a, a b, …) so that drift hits both cases alike. Everything
 * it started is stopped at the end. `BENCH_LOG=1` shows the application's log.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { register } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RunningPostgres } from '../src/database/embedded-postgres.js';
import { LIMITS_OFF } from '../test/support/limits-off.js';

/**
 * tsx (esbuild) does not emit `design:paramtypes`, which Nest's dependency injection reads. So the
 * application's own sources (`src/**\/*.ts`) are transpiled here with TypeScript itself, exactly as ts-jest
 * does for the tests (`transpileModule`, decorator metadata on); everything else still goes through tsx.
 * Hooks registered last run first. The application is therefore imported dynamically, after this.
 */
function useTypeScriptForAppSources(): void {
  const root = new URL('../', import.meta.url).href;
  const hooks = `
    import { readFile } from 'node:fs/promises';
    import { createRequire } from 'node:module';
    import { fileURLToPath } from 'node:url';
    const ts = createRequire(${JSON.stringify(root)})('typescript');
    const src = ${JSON.stringify(`${root}src/`)};
    export async function load(url, context, nextLoad) {
      const file = url.split('?')[0];
      if (!file.startsWith(src) || !file.endsWith('.ts')) return nextLoad(url, context);
      const { outputText } = ts.transpileModule(await readFile(new URL(file), 'utf8'), {
        fileName: fileURLToPath(file),
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2023,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          isolatedModules: true,
          inlineSourceMap: true,
        },
      });
      return { format: 'module', source: outputText, shortCircuit: true };
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}

/**
 * Consecutive failures per login name are counted even with the limits off, and LOGIN_FREE_FAILURES is at
 * most 100: every this many pairs the known user logs in correctly (which clears its count) and the unknown
 * case moves to a fresh address, so both cases keep doing the same database work (one insert, then updates).
 */
const RESET_EVERY_PAIRS = 50;
const MAX_N = 20_000;
const REQUEST_TIMEOUT_MS = 10_000;

const KNOWN_PASSWORD = 'correct horse battery staple';
const WRONG_PASSWORD = 'not the right password 42';

interface Reply {
  status: number;
  body: string;
  /** Header names and values, except the ones that change by themselves (`date`). */
  headers: string;
}

interface Stats {
  n: number;
  mean: number;
  median: number;
  p90: number;
  p99: number;
  sd: number;
  min: number;
  max: number;
}

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function parseOptions(): { n: number; warmup: number } {
  const { values } = parseArgs({
    options: { n: { type: 'string', default: '300' }, warmup: { type: 'string', default: '20' } },
    strict: true,
  });
  const n = Number(values.n);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(n) || n < 2 || n > MAX_N) throw new Error(`--n must be an integer in 2..${MAX_N}`);
  if (!Number.isInteger(warmup) || warmup < 0 || warmup > 1000) throw new Error('--warmup must be 0..1000');
  return { n, warmup };
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = sorted.reduce((sum, x) => sum + x, 0) / n;
  const variance = sorted.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (n - 1);
  const middle = Math.floor(n / 2);
  const median = n % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  // Nearest-rank percentile.
  const percentile = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))];
  return {
    n,
    mean,
    median,
    p90: percentile(90),
    p99: percentile(99),
    sd: Math.sqrt(variance),
    min: sorted[0],
    max: sorted[n - 1],
  };
}

/** Welch's t for the difference of two means, with the Welch–Satterthwaite degrees of freedom. */
function welch(a: Stats, b: Stats): { t: number; df: number } {
  const va = a.sd ** 2 / a.n;
  const vb = b.sd ** 2 / b.n;
  const t = (a.mean - b.mean) / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  return { t, df };
}

function report(r: { n: number; warmup: number; a: Stats; b: Stats; replies: Map<string, number> }): void {
  const { a, b, replies } = r;
  const { t, df } = welch(a, b);
  const ms = (x: number) => x.toFixed(2);
  const pct = (d: number, base: number) => `${((100 * Math.abs(d)) / base).toFixed(1)} %`;
  const columns = ['n', 'mean', 'median', 'p90', 'p99', 'stddev', 'min', 'max'];
  const row = (name: string, cells: string[]) =>
    name.padEnd(27) + cells.map((c, i) => c.padStart(i === 0 ? 4 : 8)).join('');
  const statsRow = (name: string, s: Stats) =>
    row(name, [String(s.n), ...[s.mean, s.median, s.p90, s.p99, s.sd, s.min, s.max].map(ms)]);

  out(
    'POST /auth/login timing over HTTP on 127.0.0.1 (real app, embedded PostgreSQL, argon2id 19 MiB t=2 p=1)',
  );
  out(
    `node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? 'unknown'}); ` +
      `N = ${r.n} per case ` +
      `after ${r.warmup} warm-up pairs; interleaved a,b / b,a`,
  );
  out();
  out(`${row('case (every answer 401)', columns)}  (ms)`);
  out(statsRow('(a) unknown email', a));
  out(statsRow('(b) known email, wrong pw', b));
  out();
  const dMedian = a.median - b.median;
  const dMean = a.mean - b.mean;
  out(
    `difference a - b: medians ${ms(dMedian)} ms (${pct(dMedian, b.median)}), ` +
      `means ${ms(dMean)} ms (${pct(dMean, b.mean)})`,
  );
  const significant = Math.abs(t) >= 1.96;
  out(
    `Welch t = ${t.toFixed(2)} (df ≈ ${df.toFixed(0)}): ` +
      `${significant ? '' : 'not '}significant at the 5 % level`,
  );
  const [[first, count]] = [...replies];
  if (replies.size === 1) {
    out(`responses: all ${count} identical (warm-up included): status, headers (but date) and body`);
    out(`  ${first.slice(first.indexOf('\n\n') + 2)}`);
  } else {
    out(`responses: ${replies.size} DIFFERENT ones:`);
    for (const [reply, times] of replies) out(`  ${times}x ${reply.replaceAll('\n', ' | ')}`);
  }
  out();
  const difference = significant
    ? `a significant difference (unknown email ${dMean < 0 ? 'faster' : 'slower'})`
    : 'no significant difference';
  out(
    `verdict: medians differ by ${ms(Math.abs(dMedian))} ms (${pct(dMedian, b.median)}), means by ` +
      `${ms(Math.abs(dMean))} ms (${pct(dMean, b.mean)}), Welch t = ${t.toFixed(2)}: ${difference}; ` +
      `${replies.size === 1 ? 'identical responses' : 'RESPONSES DIFFER'}`,
  );
}

async function main(): Promise<void> {
  const { n, warmup } = parseOptions();
  const startedAt = performance.now();
  useTypeScriptForAppSources();
  const { createApp } = await import('../src/bootstrap.js');
  const { loadConfig } = await import('../src/app-config.js');
  const { startEmbeddedPostgres } = await import('../src/database/embedded-postgres.js');
  let parent: string | undefined;
  let postgres: RunningPostgres | undefined;
  let app: NestFastifyApplication | undefined;
  try {
    parent = await mkdtemp(path.join(tmpdir(), 'xoxzo-2fa-bench-'));
    await chmod(parent, 0o755); // mkdtemp makes it 0700; as root the cluster runs as `postgres`
    postgres = await startEmbeddedPostgres({ dir: path.join(parent, 'pg'), ephemeral: true });

    const config = loadConfig({
      NODE_ENV: 'test',
      SMS_DRIVER: 'console',
      JWT_SECRET: randomBytes(32).toString('base64url'),
      ...LIMITS_OFF,
    });
    app = await createApp(config, postgres.url, process.env.BENCH_LOG ? undefined : false);
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address();
    if (!address || typeof address === 'string') throw new Error('the app is not listening on TCP');
    const base = `http://127.0.0.1:${address.port}`;

    const post = async (route: string, body: unknown): Promise<Reply> => {
      const response = await fetch(`${base}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      const headers = [...response.headers]
        .filter(([name]) => name !== 'date')
        .map(([name, value]) => `${name}: ${value}`)
        .join('\n');
      return { status: response.status, body: text, headers };
    };

    // Emails of the same length, so that nothing but "known or not" differs between the two requests.
    const knownEmail = 'bench-user-0000@example.com';
    let unknownSerial = 0;
    const nextUnknown = () => `bench-none-${String(++unknownSerial).padStart(4, '0')}@example.com`;
    let unknownEmail = nextUnknown();

    const registered = await post('/auth/register', {
      email: knownEmail,
      password: KNOWN_PASSWORD,
      phone: '+81 90-1234-5678',
    });
    if (registered.status !== 201) throw new Error(`register: ${registered.status} ${registered.body}`);

    const cases = {
      unknown: () => post('/auth/login', { email: unknownEmail, password: WRONG_PASSWORD }),
      wrongPassword: () => post('/auth/login', { email: knownEmail, password: WRONG_PASSWORD }),
    };
    type Case = keyof typeof cases;
    const samples: Record<Case, number[]> = { unknown: [], wrongPassword: [] };
    const replies = new Map<string, number>();

    const timed = async (which: Case, keep: boolean) => {
      const t0 = performance.now();
      const reply = await cases[which]();
      const ms = performance.now() - t0;
      if (reply.status !== 401) throw new Error(`${which}: expected 401, got ${reply.status} ${reply.body}`);
      if (keep) samples[which].push(ms);
      const key = `${reply.status}\n${reply.headers}\n\n${reply.body}`;
      replies.set(key, (replies.get(key) ?? 0) + 1);
    };

    const total = warmup + n;
    for (let i = 0; i < total; i++) {
      if (i > 0 && i % RESET_EVERY_PAIRS === 0) {
        const ok = await post('/auth/login', { email: knownEmail, password: KNOWN_PASSWORD });
        if (ok.status !== 200) throw new Error(`correct login: ${ok.status} ${ok.body}`);
        unknownEmail = nextUnknown();
      }
      const keep = i >= warmup;
      const order: Case[] = i % 2 === 0 ? ['unknown', 'wrongPassword'] : ['wrongPassword', 'unknown'];
      for (const which of order) await timed(which, keep);
    }

    report({ n, warmup, a: stats(samples.unknown), b: stats(samples.wrongPassword), replies });
    out(`(${((performance.now() - startedAt) / 1000).toFixed(1)} s in all)`);
    if (replies.size !== 1) process.exitCode = 1;
  } finally {
    await app?.close();
    await postgres?.stop();
    if (parent) await rm(parent, { recursive: true, force: true });
  }
}

await main();
