import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS_URL, freshRedisKeyPrefix } from './backends.js';
import { createTestDatabase } from './postgres.js';
import { ensureBuilt, startBuiltServer, type Started } from './processes.js';
import { runCliIn } from './cli.js';
import { freePort } from './ports.js';

export type ReplicaName = 'A' | 'B';

/**
 * The load balancer in front of the replicas, reduced to a switch: every request goes to the
 * replica named last by `via()`. The browser and the relying party only ever see this one
 * origin, which is the issuer, as they would behind a real load balancer; so cookies, the
 * issuer in tokens and every URL in discovery are the same whichever replica answers.
 */
interface Balancer {
  readonly url: string;
  via(replica: ReplicaName): void;
  /** How many requests each replica has been sent (to prove both really served). */
  readonly served: Record<ReplicaName, number>;
  close(): Promise<void>;
}

async function startBalancer(ports: Record<ReplicaName, number>): Promise<Balancer> {
  let target: ReplicaName = 'A';
  const served: Record<ReplicaName, number> = { A: 0, B: 0 };
  const forward = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    served[target] += 1;
    // Headers pass unchanged (Host included): the replicas see the issuer's host, as behind a
    // load balancer that keeps Host; X-Forwarded-For is whatever the test client sent.
    const upstream = request(
      {
        host: '127.0.0.1',
        port: ports[target],
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.once('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(upstream);
  };
  const server: Server = createServer(forward);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    via(replica) {
      target = replica;
    },
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Replicas {
  issuer: string;
  balancer: Balancer;
  /** Direct addresses of each replica, bypassing the balancer (the issuer's host is not theirs). */
  direct: Record<ReplicaName, string>;
  /** A temporary directory removed by close(): the replicas' data directories live in it. */
  workDir: string;
  /** The environment every replica (and the CLI) runs with. */
  env: Record<string, string>;
  process: Record<ReplicaName, Started>;
  cli(args: string[]): ReturnType<typeof runCliIn>;
  close(): Promise<void>;
}

/**
 * Two processes of the built server (`node dist/src/main.js`, what the image runs) on
 * different ports, with one fresh PostgreSQL database, the one Redis, one key-encryption
 * secret and one issuer: the balancer's URL. Each has a data directory of its own, as
 * pods do. `settings` is written to a GATEHOUSE_CONFIG file both read; `extraEnv` (SMTP, say)
 * goes to both and to the CLI (run in-process: the built CLI is boot/start.test.ts's subject). `apart.beforeB` runs once A alone is serving (it gets the issuer,
 * which the balancer sends to A, A's direct address and the CLI) and B starts after it: a staggered start, as a second pod scheduled later.
 */
export async function startReplicas(
  settings: string,
  extraEnv: Record<string, string> = {},
  apart?: {
    beforeB(a: { issuer: string; direct: string; cli: (args: string[]) => ReturnType<typeof runCliIn> }): Promise<void>;
  },
): Promise<Replicas> {
  await ensureBuilt();
  const database = await createTestDatabase();
  const work = mkdtempSync(join(tmpdir(), 'gh-replicas-'));
  const configFile = join(work, 'replicas.yaml');
  writeFileSync(configFile, settings);
  const ports = { A: await freePort(), B: await freePort() };
  const balancer = await startBalancer(ports);
  const env: Record<string, string> = {
    ISSUER: balancer.url,
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: freshRedisKeyPrefix(),
    KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64'),
    TRUSTED_PROXY_HOPS: '1',
    GATEHOUSE_CONFIG: configFile,
    LOG_LEVEL: 'warn',
    DATA_DIR: join(work, 'cli'),
    ...extraEnv,
  };
  const started: Partial<Record<ReplicaName, Started>> = {};
  const stop = async () => {
    for (const one of Object.values(started)) {
      if (one.child.exitCode === null) {
        one.child.kill('SIGTERM');
        await one.exited;
      }
    }
    await balancer.close();
    await database.drop();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const start = async (name: ReplicaName) => {
      started[name] = await startBuiltServer({ ...env, PORT: String(ports[name]), DATA_DIR: join(work, name) });
      return started[name];
    };
    // Both boot at once against the empty database, as a fresh Deployment's pods do:
    // migrations, first keys and built-in clients must come out exactly once.
    const [a, b] = apart
      ? [
          await start('A'),
          await apart
            .beforeB({
              issuer: balancer.url,
              direct: `http://127.0.0.1:${ports.A}`,
              cli: (args) => runCliIn(env, args),
            })
            .then(() => start('B')),
        ]
      : await Promise.all((['A', 'B'] as const).map(start));
    return {
      issuer: balancer.url,
      balancer,
      direct: { A: `http://127.0.0.1:${ports.A}`, B: `http://127.0.0.1:${ports.B}` },
      workDir: work,
      env,
      process: { A: a as Started, B: b as Started },
      cli: (args) => runCliIn(env, args),
      close: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
