import { mkdirSync, existsSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { serveOverSocket } from './pglite-socket-server.js';
import { PACKAGED_TEMPLATE, seedFromTemplate } from './embedded-template.js';
import { CHANGE_CHANNEL, embeddedChangeFeed, type ChangeFeed } from './change-feed.js';

/** Where a `pg` client finds the embedded database: a Unix socket in the data directory. */
export interface SocketConnection {
  host: string;
  port: number;
}

export interface EmbeddedPostgres {
  connection: SocketConnection;
  /** True when this process serves the database; false when it joined another process's. */
  owned: boolean;
  /** Committed changes to followed tables, from every connection of the session (only when owned). */
  changes?: ChangeFeed;
  close(): Promise<void>;
}

export interface EmbeddedOptions {
  /** A migrated empty database to start a fresh data directory from; null runs initdb. */
  template?: string | null;
}

/**
 * PostgreSQL's default 128 MB of shared buffers live in PGlite's WASM memory, that is in this
 * process's resident memory: 16 MB cut an idle server with a working set from about 370 to about
 * 210 MiB (issue 20, docs/benchmarks.md). The embedded default is for one node and small
 * directories; its tables stay in the operating system's page cache beyond the buffers.
 */
const EMBEDDED_SETTINGS = ['-c', 'shared_buffers=16MB'];

// pg looks for `${host}/.s.PGSQL.${port}` when host is a directory.
const SOCKET_PORT = 5432;

function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * The embedded default: PGlite (PostgreSQL compiled to WASM) persisted in dataDir/pg and
 * served over a Unix socket in dataDir, so the ordinary `pg` driver and TypeORM run the
 * same code as against a real server. When a Gatehouse server already serves this data
 * directory, the CLI joins it through the socket instead of opening the files twice
 * (PGlite is single-process). A data directory without a database starts as a copy of the
 * build's template when there is one (src/storage/embedded-template.ts).
 */
export async function openEmbeddedPostgres(dataDir: string, options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const connection = { host: dataDir, port: SOCKET_PORT };
  const socketPath = join(dataDir, `.s.PGSQL.${SOCKET_PORT}`);
  if (socketPath.length > 100) {
    throw new Error(
      `data directory path too long for a Unix socket (${socketPath.length} > 100 characters): ${dataDir}`,
    );
  }
  if (existsSync(socketPath)) {
    if (await socketAlive(socketPath)) {
      return { connection, owned: false, close: async () => undefined };
    }
    rmSync(socketPath, { force: true });
  }
  const template = options.template === undefined ? PACKAGED_TEMPLATE : options.template;
  if (template !== null) await seedFromTemplate(dataDir, template);
  const db = await PGlite.create(join(dataDir, 'pg'), {
    startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS],
  });
  // One LISTEN for the one session every connection shares: a commit's notification comes out
  // in its connection's output, where the socket server finds it (change-feed.ts).
  await db.exec(`LISTEN ${CHANGE_CHANNEL}`);
  const changes = embeddedChangeFeed();
  const server = await serveOverSocket(db, socketPath, 16, changes.deliver);
  return {
    connection,
    owned: true,
    changes,
    async close() {
      await server.stop();
      await db.close();
      rmSync(socketPath, { force: true });
    },
  };
}
