/**
 * A request transaction's statements sent in fewer round trips (issue 20). Each round trip to
 * the database costs a socket write and a wake-up on both sides, more than most statements
 * cost to run; a refresh-token rotation was six of them (BEGIN, lookup, consume, two inserts,
 * COMMIT). On the transaction's connection:
 * - BEGIN is held back and sent with the transaction's first statement: an empty transaction
 *   sends nothing at all;
 * - a write whose answer nobody reads (a token saved, `defer`) is held back and sent with the
 *   next statement, or with the COMMIT: the rotation's two inserts travel with its COMMIT.
 * Held-back statements go out in order, before the statement that releases them and in the same
 * socket write (node-postgres pipeline mode, https://node-postgres.com/features/pipelining), so
 * everything the transaction reads sees its earlier writes. A held-back write that fails fails
 * the statement it travelled with, with its own error, and the transaction is rolled back as
 * before: PostgreSQL answers a COMMIT of a failed transaction by rolling it back.
 */

/** A statement as node-postgres takes it. */
export interface PgStatement {
  name?: string;
  text: string;
  values?: unknown[];
}

interface PgResult {
  command?: string;
  rows: unknown[];
  rowCount: number | null;
}

/** The node-postgres client of a transaction (pg.Client). */
export interface PgClient {
  query(statement: PgStatement | string, values?: unknown[]): Promise<PgResult>;
  pipeline: boolean;
  connection: { stream: { cork(): void; uncork(): void } };
}

interface Batch {
  /** BEGIN and the writes held back, in the order they were asked for. */
  held: PgStatement[];
  /** Whether BEGIN is among them, i.e. nothing of the transaction has reached the database. */
  beginHeld: boolean;
}

const batches = new WeakMap<object, Batch>();

const BEGIN = /^\s*(START TRANSACTION|BEGIN)\s*;?\s*$/i;
const COMMIT = /^\s*(COMMIT|END)\s*;?\s*$/i;
const ROLLBACK = /^\s*ROLLBACK\s*;?\s*$/i;

const nothingSent = (command: string): PgResult => ({ command, rows: [], rowCount: null });

/**
 * Makes `client`'s next transaction batched, until `stop`: its BEGIN (TypeORM's
 * startTransaction) is held back, and `deferWrite` holds writes back. Call it on an idle client.
 */
export function batchTransaction(client: PgClient): { stop(): void } {
  const batch: Batch = { held: [], beginHeld: false };
  const send = client.query.bind(client);
  // A query of the client's own (a wrapper someone put there) comes back when batching stops.
  const ownQuery = Object.getOwnPropertyDescriptor(client, 'query');
  const wasPipelined = client.pipeline;
  client.pipeline = true;
  batches.set(client, batch);

  const query = async (statement: PgStatement | string, values?: unknown[]): Promise<PgResult> => {
    const text = typeof statement === 'string' ? statement : statement.text;
    if (typeof statement === 'string' && BEGIN.test(text) && !batch.beginHeld && batch.held.length === 0) {
      batch.beginHeld = true;
      batch.held.push({ text: 'BEGIN' });
      return nothingSent('BEGIN');
    }
    const ending =
      typeof statement !== 'string' ? null : COMMIT.test(text) ? 'COMMIT' : ROLLBACK.test(text) ? 'ROLLBACK' : null;
    if (ending && batch.beginHeld && (ending === 'ROLLBACK' || batch.held.length === 1)) {
      // Nothing reached the server, or nothing that is to stay: there is no transaction there to end.
      batch.held = [];
      batch.beginHeld = false;
      return nothingSent(ending);
    }
    // Writes held back for a transaction that is abandoned need not be sent.
    if (ending === 'ROLLBACK') batch.held = [];
    const held = batch.held.splice(0);
    batch.beginHeld = false;
    const { stream } = client.connection;
    const sent: Array<Promise<PgResult>> = [];
    let answer: Promise<PgResult>;
    stream.cork();
    try {
      for (const statement of held) sent.push(send(statement));
      answer = values === undefined ? send(statement) : send(statement, values);
    } finally {
      stream.uncork();
    }
    const outcomes = await Promise.allSettled([...sent, answer]);
    // The first failure is the cause; those after it are PostgreSQL refusing a failed transaction.
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return (outcomes[outcomes.length - 1] as PromiseFulfilledResult<PgResult>).value;
  };
  Object.defineProperty(client, 'query', { value: query, configurable: true, writable: true });

  return {
    stop() {
      batches.delete(client);
      // The client goes back to the pool as it came.
      if (ownQuery) Object.defineProperty(client, 'query', ownQuery);
      else delete (client as { query?: unknown }).query;
      client.pipeline = wasPipelined;
    },
  };
}

/**
 * Holds `statement` back on a batched transaction's client, to go with the next statement;
 * false when `client` is not batched (run it now instead).
 */
export function deferWrite(client: object, statement: PgStatement): boolean {
  const batch = batches.get(client);
  if (!batch) return false;
  batch.held.push(statement);
  return true;
}
