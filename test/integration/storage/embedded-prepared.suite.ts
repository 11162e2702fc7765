import { Socket } from 'node:net';
import pg from 'pg';
import { STORE_BACKENDS } from '../../helpers/backends.js';
import { openTestStorage, registerStorageClient } from '../../helpers/storage.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';

/**
 * The embedded database's connections share PGlite's one session, so the process that owns it
 * names its prepared statements per connection (src/storage/data-source.ts), and the socket
 * server deallocates a connection's statements when it closes (pglite-socket-server.ts).
 */
/** A plain node-postgres connection through the embedded database's socket (pg finds `${dataDir}/.s.PGSQL.5432`). */
const socketClient = (opened: Awaited<ReturnType<typeof openTestStorage>>) =>
  new pg.Client({ host: opened.config.storage.dataDir, port: 5432, user: 'postgres', database: 'postgres' });

describe.each(STORE_BACKENDS.filter((b) => b === 'embedded'))('prepared statements on the %s database', (backend) => {
  it(
    'each connection prepares under its own names, and those of closed connections are deallocated',
    async () => {
      const opened = await openTestStorage(backend);
      // A connection of another process's kind (the CLI's): it sees the one session's statements.
      const observer = socketClient(opened);
      await observer.connect();
      const ours = async () =>
        (
          await observer.query<{ name: string }>('SELECT name FROM pg_prepared_statements WHERE name LIKE $1', [
            `gh\\_%\\_${process.pid}\\_%`,
          ])
        ).rows.map((row) => row.name);
      try {
        const clientId = await registerStorageClient(opened.storage.clients, 'prepared');
        // Reads in parallel take several pool connections; each prepares the same text itself.
        const rows = await Promise.all([1, 2, 3].map(() => opened.storage.clients.find(clientId)));
        expect(rows.map((row) => row?.id)).toEqual([clientId, clientId, clientId]);
        const prepared = await ours();
        expect(prepared.length).toBeGreaterThan(0);
        expect(new Set(prepared).size).toBe(prepared.length);

        await opened.storage.dataSource.destroy();
        // The server side learns of each close a moment after the client's end resolves.
        const deadline = Date.now() + 5000;
        let left = await ours();
        while (left.length > 0 && Date.now() < deadline) left = await ours();
        expect(left).toEqual([]);
      } finally {
        await observer.end();
        await opened.dispose();
      }
    },
    BOOT_TIMEOUT,
  );

  it(
    "answers a statement's messages in one socket write, and what a Flush asks for at once",
    async () => {
      const opened = await openTestStorage(backend);
      const client = socketClient(opened);
      await client.connect();
      const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
      const original = { write: proto._write, writev: proto._writev };
      let serverWrites = 0;
      // The socket server runs in this process: count the writes of the sockets it accepted.
      const counting = (write: (...args: unknown[]) => unknown) =>
        function (this: Socket, ...args: unknown[]) {
          if ((this as unknown as { _server?: unknown })._server) serverWrites++;
          return write.apply(this, args);
        };
      try {
        const statement = { name: 'one_write', text: 'SELECT $1::int + 1 AS two', values: [1] };
        await client.query(statement);
        proto._write = counting(original.write);
        proto._writev = counting(original.writev);
        // Bind, Describe, Execute and Sync: their answers leave together.
        expect((await client.query(statement)).rows).toEqual([{ two: 2 }]);
        expect(serverWrites).toBe(1);
        // `rows` makes node-postgres Flush and wait for the first rows before its Sync.
        const rows = await client.query({ text: 'SELECT generate_series(1, 3) AS n', rows: 1 } as pg.QueryConfig);
        expect(rows.rows.map((row: { n: number }) => row.n)).toEqual([1, 2, 3]);
      } finally {
        proto._write = original.write;
        proto._writev = original.writev;
        await client.end();
        await opened.dispose();
      }
    },
    BOOT_TIMEOUT,
  );
});
