/**
 * Statements and Redis commands per operation, counted, not timed: what issue 20 asks to bring
 * down ("count them per endpoint"). Gatehouse runs as `npm run bench` runs it (built server,
 * fresh database, Redis index 5); its database logs every statement (`log_statement = all`,
 * set on that database only), read back from PostgreSQL's log file, and a MONITOR connection
 * sees Redis index 5 (it lists the commands a Lua script runs as well as the EVALSHA itself). Each operation runs `--runs` times one after another, after one unlogged
 * warm-up, and the table shows what one operation sends, statement by statement.
 *
 * Beside them, the round trips: TCP segments carrying data that the server sent to PostgreSQL and
 * to Redis (`ss -ti`'s data_segs_out of its connections; with Nagle off, one per socket write),
 * so statements that travel together (src/storage/batched-transaction.ts) count once.
 *
 * Run: npm run build && npx tsx bench/statements.ts [--runs 20] [--ops introspection,userinfo]
 * [--log /var/log/postgresql/postgresql-15-main.log] [--keep]
 * It needs to read the server's log file (Debian's default: stderr to that file).
 */
import { execFileSync } from 'node:child_process';
import { openSync, readSync, statSync, closeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import {
  RefreshChain,
  accessTokens,
  authorizationCodeFlow,
  clientCredentials,
  clientCredentialsJwt,
  introspection,
  userinfo,
  type BenchTarget,
} from './operations.js';
import { POSTGRES_ADMIN_URL, REDIS_URL, openStores, startGatehouse } from './servers.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    ops: { type: 'string' },
    log: { type: 'string', default: '/var/log/postgresql/postgresql-15-main.log' },
    /** Leave the benchmark database behind (its name is printed), to EXPLAIN its statements afterwards. */
    keep: { type: 'boolean', default: false },
  },
});

const ROOT = new URL('..', import.meta.url).pathname;
const runs = Number(args.runs);

type Operation = (target: BenchTarget) => Promise<unknown>;

/** Reads what PostgreSQL appended to its log since `from`. */
function logSince(path: string, from: number): string {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(size - from);
    readSync(fd, buffer, 0, buffer.length, from);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The statements one database logged: `statement:` and `execute …:` entries (continuation lines joined), text normalised. */
function statementsOf(log: string, database: string): string[] {
  // An entry starts with the log_line_prefix' timestamp; a multi-line statement continues on lines without one.
  const entries: string[] = [];
  for (const line of log.split('\n')) {
    if (/^\d{4}-\d{2}-\d{2} /.test(line)) entries.push(line);
    else if (entries.length > 0) entries[entries.length - 1] += ` ${line}`;
  }
  const out: string[] = [];
  for (const entry of entries) {
    if (!entry.includes(`@${database} `)) continue;
    const match = /LOG:\s+(?:statement|execute [^:]*):\s+(.*)$/s.exec(entry);
    if (match?.[1]) out.push(match[1].replace(/\s+/g, ' ').trim().slice(0, 150));
  }
  return out;
}

/** The TCP ports the server reaches PostgreSQL and Redis on (a Unix socket counts no segments). */
const ports = {
  postgres: Number(new URL(POSTGRES_ADMIN_URL).port || 5432),
  redis: Number(new URL(REDIS_URL).port || 6379),
};

/** Data segments `pid` has sent so far on its established connections to `port`, from `ss -ti`. */
function segmentsSent(pid: number, port: number): number {
  const out = execFileSync('ss', ['-tinpH', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' });
  let total = 0;
  let mine = false;
  for (const line of out.split('\n')) {
    if (!line.startsWith('\t') && !line.startsWith(' ')) mine = line.includes(`pid=${pid},`);
    else if (mine) total += Number(/data_segs_out:(\d+)/.exec(line)?.[1] ?? 0);
  }
  return total;
}

async function main(): Promise<void> {
  const stores = await openStores();
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${stores.databaseName} SET log_statement = 'all'`);
  const { server } = await startGatehouse(stores, ROOT);
  const target = server.target;
  const monitor = new Redis(REDIS_URL);
  const redisIndex = new URL(REDIS_URL).pathname.slice(1) || '0';
  let redisCommands: string[] = [];
  // MONITOR runs on a connection of its own, which must be closed by itself at the end.
  const monitoring = await monitor.monitor();
  monitoring.on('monitor', (_time: string, command: string[], _source: string, database: string) => {
    if (database === redisIndex) redisCommands.push(command[0]?.toUpperCase() ?? '?');
  });
  try {
    const [token] = await accessTokens(target, 1);
    if (!token) throw new Error('no access token');
    const chain = await RefreshChain.start(target);
    const operations: Record<string, Operation> = {
      client_credentials: clientCredentials,
      client_credentials_jwt: clientCredentialsJwt,
      introspection: (t) => introspection(t, token),
      userinfo: (t) => userinfo(t, token),
      refresh_token: () => chain.refresh(),
      authorization_code_flow: (t) => authorizationCodeFlow(t),
    };
    const wanted = args.ops?.split(',') ?? Object.keys(operations);
    const rows: string[] = [];
    for (const name of wanted) {
      const operation = operations[name];
      if (!operation) throw new Error(`unknown operation ${name}`);
      await operation(target);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const from = statSync(args.log).size;
      redisCommands = [];
      const sentBefore = {
        postgres: segmentsSent(server.pid, ports.postgres),
        redis: segmentsSent(server.pid, ports.redis),
      };
      for (let i = 0; i < runs; i++) await operation(target);
      const roundTrips = {
        postgres: (segmentsSent(server.pid, ports.postgres) - sentBefore.postgres) / runs,
        redis: (segmentsSent(server.pid, ports.redis) - sentBefore.redis) / runs,
      };
      await new Promise((resolve) => setTimeout(resolve, 300));
      const statements = statementsOf(logSince(args.log, from), stores.databaseName);
      const byText = new Map<string, number>();
      for (const s of statements) byText.set(s, (byText.get(s) ?? 0) + 1);
      const redisByCommand = new Map<string, number>();
      for (const c of redisCommands) redisByCommand.set(c, (redisByCommand.get(c) ?? 0) + 1);
      rows.push(
        `${name.padEnd(26)} ${(statements.length / runs).toFixed(1).padStart(6)} statements in ${roundTrips.postgres.toFixed(1).padStart(5)} round trips  ${(redisCommands.length / runs).toFixed(1).padStart(6)} Redis commands in ${roundTrips.redis.toFixed(1).padStart(5)} round trips`,
      );
      console.log(`\n## ${name}: ${(statements.length / runs).toFixed(1)} statements per operation`);
      for (const [text, count] of [...byText].sort((a, b) => b[1] - a[1]))
        console.log(`  ${(count / runs).toFixed(2).padStart(6)}  ${text}`);
      console.log(
        `  Redis: ${[...redisByCommand].map(([c, n]) => `${c} ${(n / runs).toFixed(1)}`).join(', ') || 'none'}`,
      );
    }
    console.log(`\n${rows.join('\n')}`);
  } finally {
    monitoring.disconnect();
    monitor.disconnect();
    await server.stop();
    await admin.query(`ALTER DATABASE ${stores.databaseName} RESET log_statement`).catch(() => undefined);
    await admin.end();
    if (args.keep) console.log(`\nkept the database ${stores.databaseName}: drop it when done`);
    else await stores.close();
  }
}

await main();
