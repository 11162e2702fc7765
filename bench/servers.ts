import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { ClientMetadata } from 'oidc-provider';
import type { BareConfig } from './bare-provider.js';
import type { BenchUpstreamConfig } from './bench-upstream.js';
import type { Meter } from './load.js';
import { freePort } from '../test/helpers/ports.js';
import type { BenchTarget } from './operations.js';
import { groupDelta, processCpuSeconds, processGroupCpu, residentMiB } from './cpu.js';

const run = promisify(execFile);

export const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** A Redis database index of its own, flushed before use, so no one else's keys are touched. */
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/5';
const BOOT_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const REDIRECT_URI = 'http://127.0.0.1/bench/callback';

export interface RunningServer {
  name: 'gatehouse' | 'bare';
  target: BenchTarget;
  pid: number;
  /** CPU meters for this server's side: its own process, and for Gatehouse its stores. */
  meters: Meter[];
  rssMiB(): number | undefined;
  /** Server output lines (stdout and stderr), the last 200. */
  output(): string[];
  stop(): Promise<void>;
}

/** What Gatehouse's CLI created, handed to the bare server so both serve the same clients. */
export interface Fixtures {
  user: { id: string; email: string; password: string; name: string };
  clients: ClientMetadata[];
}

// One way to find a free loopback port, for the tests and the bench alike.
export { freePort };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function processMeter(label: string, pid: number): Meter {
  return {
    label,
    kind: 'cpu',
    async start() {
      const before = processCpuSeconds(pid);
      return async () => {
        const after = processCpuSeconds(pid);
        return before === undefined || after === undefined ? undefined : after - before;
      };
    },
  };
}

export interface Child {
  process: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

export function startChild(command: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 200) output.shift();
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, output, exited };
}

async function waitForDiscovery(issuer: string, child: Child): Promise<void> {
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(
    `server did not come up (${exited ? 'it exited' : 'timed out'}):\n${child.output.slice(-20).join('\n')}`,
  );
}

export async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  const stopped = await Promise.race([child.exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
  if (!stopped) {
    child.process.kill('SIGKILL');
    await child.exited;
  }
}

/**
 * The node flags the image's CMD and `npm start` run Gatehouse with, so the benchmark measures
 * what is deployed (test/unit/deployment-recipes.suite.ts keeps the three the same).
 */
export const DEPLOYED_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** Only what a server needs from our environment; nothing like GATEHOUSE_CONFIG leaks in. */
export function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: process.env.LANG };
}

type Endpoints = Pick<
  BenchTarget,
  'tokenEndpoint' | 'authorizationEndpoint' | 'jwksUri' | 'introspectionEndpoint' | 'userinfoEndpoint'
>;

async function endpoints(issuer: string): Promise<Endpoints> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
  const doc = (await res.json()) as {
    token_endpoint?: string;
    authorization_endpoint?: string;
    jwks_uri?: string;
    introspection_endpoint?: string;
    userinfo_endpoint?: string;
  };
  if (
    !doc.token_endpoint ||
    !doc.authorization_endpoint ||
    !doc.jwks_uri ||
    !doc.introspection_endpoint ||
    !doc.userinfo_endpoint
  ) {
    throw new Error('discovery document without endpoints');
  }
  return {
    tokenEndpoint: doc.token_endpoint,
    authorizationEndpoint: doc.authorization_endpoint,
    jwksUri: doc.jwks_uri,
    introspectionEndpoint: doc.introspection_endpoint,
    userinfoEndpoint: doc.userinfo_endpoint,
  };
}

/** Rows and bytes of the tables sessions live in, at one moment. */
export interface StorageSnapshot {
  /** Per oidc-provider model: live and dead rows alike, pg_column_size of each whole row. */
  models: Record<string, { rows: number; rowBytes: number }>;
  /** pg_total_relation_size: heap, TOAST and indexes. */
  oidcPayloadsTotalBytes: number;
  auditEventsTotalBytes: number;
}

/** PostgreSQL storage the sessions of one phase added, per session (each sign-in is a new session). */
export interface SessionStorage {
  sessions: number;
  /** Rows added per model, and their pg_column_size bytes per session. */
  perModel: Record<string, { rows: number; rowBytesPerSession: number }>;
  /** Sum of the row bytes above (Session, Grant, tokens, codes) per session. */
  rowBytesPerSession: number;
  /** Growth of oidc_payloads (heap + TOAST + indexes) per session: what the disk sees. */
  relationBytesPerSession: number;
  /** Growth of audit_events per session (the sign-in's audit event; kept, not per active session). */
  auditBytesPerSession: number;
}

/** The scratch PostgreSQL database and Redis index Gatehouse runs on, and their CPU meters. */
export interface Stores {
  databaseUrl: string;
  databaseName: string;
  meters: Meter[];
  sessionStorageSnapshot(): Promise<StorageSnapshot>;
  sessionStorageDelta(before: StorageSnapshot, after: StorageSnapshot): SessionStorage;
  versions: { postgres: string; redis: string };
  close(): Promise<void>;
}

export async function openStores(): Promise<Stores> {
  const databaseName = `gh_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  let created = false;
  try {
    await admin.query(`CREATE DATABASE ${databaseName}`);
    created = true;
    await redis.connect();
    await redis.flushdb();
    const info = await redis.info('server');
    const redisPid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    const redisVersion = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
    const postgresVersion = String(
      (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version,
    );

    const backendPids = async () =>
      (
        await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [databaseName])
      ).rows.map((r) => r.pid);
    const postgresMeter: Meter = {
      label: 'postgres',
      kind: 'cpu',
      async start() {
        const before = processGroupCpu(await backendPids());
        return async () => groupDelta(before, processGroupCpu(await backendPids()));
      },
    };
    const pgCounter = (label: string, expression: string): Meter => {
      const read = async () =>
        Number(
          (
            await admin.query<{ n: string }>(`SELECT ${expression} AS n FROM pg_stat_database WHERE datname = $1`, [
              databaseName,
            ])
          ).rows[0]?.n,
        );
      return {
        label,
        kind: 'count',
        async start() {
          const before = await read();
          return async () => (await read()) - before;
        },
      };
    };
    const redisCommands: Meter = {
      label: 'redis_commands',
      kind: 'count',
      async start() {
        const read = async () => Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1]);
        const before = await read();
        // Minus the INFO that reads the count.
        return async () => (await read()) - before - 1;
      },
    };
    const meters: Meter[] = [
      postgresMeter,
      ...(Number.isFinite(redisPid) && redisPid > 0 ? [processMeter('redis', redisPid)] : []),
      pgCounter('pg_transactions', 'xact_commit + xact_rollback'),
      pgCounter('pg_rows_written', 'tup_inserted + tup_updated + tup_deleted'),
      redisCommands,
    ];
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${databaseName}`;
    const databaseUrl = url.toString();
    const sessionStorageSnapshot = async (): Promise<StorageSnapshot> => {
      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        const models = await db.query<{ model: string; rows: string; bytes: string }>(
          'SELECT model, count(*) AS rows, COALESCE(sum(pg_column_size(o.*)), 0) AS bytes FROM oidc_payloads o GROUP BY model',
        );
        const sizes = await db.query<{ oidc: string; audit: string }>(
          "SELECT pg_total_relation_size('oidc_payloads') AS oidc, pg_total_relation_size('audit_events') AS audit",
        );
        return {
          models: Object.fromEntries(
            models.rows.map((r) => [r.model, { rows: Number(r.rows), rowBytes: Number(r.bytes) }]),
          ),
          oidcPayloadsTotalBytes: Number(sizes.rows[0]?.oidc),
          auditEventsTotalBytes: Number(sizes.rows[0]?.audit),
        };
      } finally {
        await db.end();
      }
    };
    const sessionStorageDelta = (before: StorageSnapshot, after: StorageSnapshot): SessionStorage => {
      const delta = (model: string) => ({
        rows: (after.models[model]?.rows ?? 0) - (before.models[model]?.rows ?? 0),
        bytes: (after.models[model]?.rowBytes ?? 0) - (before.models[model]?.rowBytes ?? 0),
      });
      const sessions = delta('Session').rows;
      const per = (bytes: number) => (sessions > 0 ? Math.round(bytes / sessions) : NaN);
      const perModel: SessionStorage['perModel'] = {};
      let rowBytes = 0;
      for (const model of new Set([...Object.keys(before.models), ...Object.keys(after.models)])) {
        const d = delta(model);
        if (d.rows === 0 && d.bytes === 0) continue;
        perModel[model] = { rows: d.rows, rowBytesPerSession: per(d.bytes) };
        rowBytes += d.bytes;
      }
      return {
        sessions,
        perModel,
        rowBytesPerSession: per(rowBytes),
        relationBytesPerSession: per(after.oidcPayloadsTotalBytes - before.oidcPayloadsTotalBytes),
        auditBytesPerSession: per(after.auditEventsTotalBytes - before.auditEventsTotalBytes),
      };
    };
    return {
      databaseUrl,
      databaseName,
      meters,
      sessionStorageSnapshot,
      sessionStorageDelta,
      versions: { postgres: postgresVersion, redis: redisVersion },
      async close() {
        await redis.flushdb().catch(() => undefined);
        redis.disconnect();
        await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
        await admin.end();
      },
    };
  } catch (error) {
    redis.disconnect();
    if (created) await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    throw error;
  }
}

interface CliClient extends ClientMetadata {
  client_id: string;
  client_secret?: string;
  name?: string;
  first_party?: boolean;
}

/**
 * Gatehouse as it is deployed: `node dist/src/main.js` in a child process, on a fresh
 * PostgreSQL database and Redis index, with its user and clients made by its own CLI.
 */
export async function startGatehouse(
  stores: Stores,
  root: string,
  options: { node?: string; cpuProfileDir?: string; nodeFlags?: string[]; env?: Record<string, string> } = {},
): Promise<{ server: RunningServer; fixtures: Fixtures; cli: GatehouseCli }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-'));
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(),
    ISSUER: issuer,
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: stores.databaseUrl,
    REDIS_URL,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64'),
    // Rate limits raised past what one load generator sends (bench/gatehouse-bench.yaml).
    GATEHOUSE_CONFIG: join(root, 'bench/gatehouse-bench.yaml'),
    ...options.env,
  };
  const cli: GatehouseCli = async <T>(...args: string[]): Promise<T> => {
    const { stdout } = await run(process.execPath, ['dist/src/cli/main.js', ...args, '--json'], {
      cwd: root,
      env,
      timeout: 60_000,
    });
    const last = stdout.trim().split('\n').pop() ?? '';
    return JSON.parse(last) as T;
  };

  // --cpu-prof writes the profile when the process exits (Gatehouse exits 0 on SIGTERM).
  const profile = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const child = startChild(
    options.node ?? process.execPath,
    [...profile, ...DEPLOYED_NODE_FLAGS, ...(options.nodeFlags ?? []), 'dist/src/main.js'],
    { ...env },
  );
  const cleanup = async () => {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForDiscovery(issuer, child);
    const password = randomBytes(18).toString('base64url');
    const email = 'bench@example.com';
    const name = 'Bench User';
    const user = await cli<{ id: string; email: string }>(
      'users',
      'create',
      '--email',
      email,
      // One argument: a random password may start with '-', which parseArgs would take for an option.
      `--password=${password}`,
      '--name',
      name,
    );
    const machine = await cli<CliClient>(
      'clients',
      'create',
      '--name',
      'bench-machine',
      '--grant-types',
      'client_credentials',
    );
    const web = await cli<CliClient>(
      'clients',
      'create',
      '--name',
      'bench-web',
      '--redirect-uri',
      REDIRECT_URI,
      '--first-party',
    );
    if (!machine.client_secret || !web.client_secret) throw new Error('the CLI returned a client without a secret');
    const pid = child.process.pid;
    if (pid === undefined) throw new Error('Gatehouse has no pid');

    const target: BenchTarget = {
      issuer,
      ...(await endpoints(issuer)),
      user: { email, password },
      machineClient: { clientId: machine.client_id, clientSecret: machine.client_secret },
      webClient: { clientId: web.client_id, clientSecret: web.client_secret, redirectUri: REDIRECT_URI },
    };
    const asStatic = ({ name: clientName, first_party: _firstParty, ...metadata }: CliClient): ClientMetadata => ({
      ...metadata,
      client_name: clientName,
    });
    return {
      server: {
        name: 'gatehouse',
        target,
        pid,
        meters: [processMeter('server', pid), ...stores.meters],
        rssMiB: () => residentMiB(pid),
        output: () => [...child.output],
        stop: cleanup,
      },
      fixtures: { user: { id: user.id, email, password, name }, clients: [asStatic(machine), asStatic(web)] },
      cli,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Gatehouse's CLI against the benchmark's Gatehouse (its database and secrets), `--json` appended. */
export type GatehouseCli = <T>(...args: string[]) => Promise<T>;

/** The connection the `federated_sign_in` operation signs in through. */
export const BENCH_CONNECTION = 'bench-upstream';

/**
 * The upstream of `federated_sign_in` (bench/bench-upstream.ts) in a process of its own, and
 * Gatehouse's connection to it, made with the CLI. Returns the upstream's issuer and a stop.
 */
export async function startBenchUpstream(
  gatehouse: { issuer: string; cli: GatehouseCli },
  root: string,
  node: string = process.execPath,
): Promise<{ issuer: string; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const config: BenchUpstreamConfig = {
    issuer,
    port,
    client: {
      clientId: 'gatehouse-bench',
      clientSecret,
      redirectUri: `${gatehouse.issuer}/federation/${BENCH_CONNECTION}/callback`,
    },
    person: { subject: 'bench-upstream-person', email: 'bench-federated@example.com', name: 'Bench Federated' },
  };
  const child = startChild(node, ['--import', 'tsx', join(root, 'bench/bench-upstream.ts')], {
    ...baseEnv(),
    BENCH_UPSTREAM_CONFIG: JSON.stringify(config),
  });
  try {
    await waitForDiscovery(issuer, child);
    await gatehouse.cli(
      'connections',
      'create',
      BENCH_CONNECTION,
      '--display-name',
      'Bench upstream',
      '--kind',
      'oidc',
      '--issuer',
      issuer,
      '--client-id',
      config.client.clientId,
      '--client-secret',
      clientSecret,
      '--create-accounts',
      '--trust-email-verification',
    );
    const pid = child.process.pid;
    if (pid === undefined) throw new Error('the bench upstream has no pid');
    return { issuer, pid, stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** bench/bare-provider.ts under tsx's loader; `node --import tsx` keeps the server in this pid. */
export async function startBare(
  fixtures: Fixtures,
  root: string,
  node: string = process.execPath,
): Promise<RunningServer> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const config: BareConfig = { issuer, port, user: fixtures.user, clients: fixtures.clients };
  const child = startChild(node, ['--import', 'tsx', join(root, 'bench/bare-provider.ts')], {
    ...baseEnv(),
    BENCH_BARE_CONFIG: JSON.stringify(config),
  });
  try {
    await waitForDiscovery(issuer, child);
    const pid = child.process.pid;
    if (pid === undefined) throw new Error('bare provider has no pid');
    const machine = fixtures.clients[0];
    const web = fixtures.clients[1];
    if (!machine?.client_secret || !web?.client_secret) throw new Error('fixtures without client secrets');
    return {
      name: 'bare',
      target: {
        issuer,
        ...(await endpoints(issuer)),
        user: { email: fixtures.user.email, password: fixtures.user.password },
        machineClient: { clientId: machine.client_id, clientSecret: machine.client_secret },
        webClient: { clientId: web.client_id, clientSecret: web.client_secret, redirectUri: REDIRECT_URI },
      },
      pid,
      meters: [processMeter('server', pid)],
      rssMiB: () => residentMiB(pid),
      output: () => [...child.output],
      stop: () => stopChild(child),
    };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}
