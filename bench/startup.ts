/**
 * Start to ready: how long `node dist/src/main.js` takes from spawn to its first 200 on
 * /readyz, and its idle RSS once ready, on the embedded default (PGlite, in-process store)
 * with a fresh data directory and with the one the first start left, and on PostgreSQL +
 * Redis with a fresh database and with the migrated one.
 *
 *   npm run build && npm run bench:startup [-- --runs 3]
 *
 * Loopback only; writes bench/results/<date>-startup.json (then -startup-2, …). See docs/benchmarks.md.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { residentMiB } from './cpu.js';
import {
  DEPLOYED_NODE_FLAGS,
  POSTGRES_ADMIN_URL,
  REDIS_URL,
  baseEnv,
  freePort,
  startChild,
  stopChild,
} from './servers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const READY_TIMEOUT_MS = 60_000;
const POLL_MS = 10;
const IDLE_SETTLE_MS = 5000;

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 10) {
  process.stderr.write('bench:startup: --runs is 1 to 10\n');
  process.exit(2);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Start {
  /** Spawn to the first 200 on /readyz. */
  readyMs: number;
  /** VmRSS once ready and idle for a few seconds. */
  idleRssMiB: number | undefined;
}

/** Spawns Gatehouse with `env`, waits for /readyz to answer 200, reads its idle RSS, stops it. */
async function startOnce(env: NodeJS.ProcessEnv): Promise<Start> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = startChild(process.execPath, [...DEPLOYED_NODE_FLAGS, 'dist/src/main.js'], {
    ...baseEnv(),
    ...env,
    ISSUER: issuer,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
  });
  try {
    const deadline = t0 + READY_TIMEOUT_MS;
    while (performance.now() < deadline && child.process.exitCode === null) {
      try {
        const res = await fetch(`${issuer}/readyz`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) {
          const readyMs = Math.round(performance.now() - t0);
          await sleep(IDLE_SETTLE_MS);
          return { readyMs, idleRssMiB: child.process.pid === undefined ? undefined : residentMiB(child.process.pid) };
        }
      } catch {
        // not listening yet
      }
      await sleep(POLL_MS);
    }
    throw new Error(`not ready in time:\n${child.output.slice(-20).join('\n')}`);
  } finally {
    await stopChild(child);
  }
}

async function embedded(): Promise<{ fresh: Start; existing: Start }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-startup-'));
  try {
    const fresh = await startOnce({ DATA_DIR: dataDir });
    const existing = await startOnce({ DATA_DIR: dataDir });
    return { fresh, existing };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function postgres(): Promise<{ fresh: Start; existing: Start }> {
  const name = `gh_startup_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-startup-'));
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    const env = {
      DATABASE_URL: url.toString(),
      REDIS_URL,
      DATA_DIR: dataDir,
      KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64'),
    };
    const fresh = await startOnce(env);
    const existing = await startOnce(env);
    return { fresh, existing };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist/src/main.js'))) {
    process.stderr.write('bench:startup: run `npm run build` first\n');
    process.exit(2);
  }
  const results: Array<{ embedded: { fresh: Start; existing: Start }; postgres: { fresh: Start; existing: Start } }> =
    [];
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`bench:startup: run ${i + 1}/${runs} ...\n`);
    results.push({ embedded: await embedded(), postgres: await postgres() });
  }
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  let path: string;
  for (let n = 1; ; n++) {
    path = join(dir, n === 1 ? `${date}-startup.json` : `${date}-startup-${n}.json`);
    if (!existsSync(path)) break;
  }
  writeFileSync(
    path,
    `${JSON.stringify({ command: `npm run bench:startup -- --runs ${runs}`, startedAt: date, node: process.version, results }, null, 2)}\n`,
  );
  for (const [i, r] of results.entries()) {
    process.stdout.write(
      `run ${i + 1}: embedded fresh ${r.embedded.fresh.readyMs} ms (${r.embedded.fresh.idleRssMiB} MiB), existing ${r.embedded.existing.readyMs} ms (${r.embedded.existing.idleRssMiB} MiB); ` +
        `postgres fresh ${r.postgres.fresh.readyMs} ms (${r.postgres.fresh.idleRssMiB} MiB), existing ${r.postgres.existing.readyMs} ms (${r.postgres.existing.idleRssMiB} MiB)\n`,
    );
  }
  process.stdout.write(`results: ${path.slice(ROOT.length + 1)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:startup: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
