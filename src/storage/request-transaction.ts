import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * One database transaction around a whole request whose writes must land together or not at
 * all. oidc-provider rotates a refresh token in separate adapter calls (consume the old one,
 * save the new one, save the access token: lib/actions/grants/refresh_token.js); if the
 * database or the process dies between them, the client keeps a token that is already
 * consumed, and its retry is taken for a replay that revokes the grant. Run in one
 * transaction, a failure rolls every write back and the client's token still works.
 */
interface OpenTransaction {
  manager: EntityManager;
  /** False once committed or rolled back: a late query (an audit write not awaited) uses the pool. */
  open: boolean;
}

const current = new AsyncLocalStorage<OpenTransaction>();

/** The transaction's connection broke before it could commit: nothing of it was written. */
export class TransactionLostError extends Error {
  /** SQLSTATE connection_failure, so that it reads as the unavailable database it is (unavailable.ts). */
  readonly code = '08006';

  constructor() {
    super('the database connection of the transaction was lost before it committed');
    this.name = 'TransactionLostError';
  }
}

/**
 * An EntityManager that is the request's transaction while one is open, and the pool's
 * otherwise. Every repository is built on it, so everything a request reads or writes runs
 * on the one connection: on the embedded database a second connection would wait for the
 * first one's transaction to end (pglite-socket-server.ts), and on PostgreSQL it would take
 * a second pool connection per request.
 */
export function requestScopedManager(pooled: EntityManager): EntityManager {
  return new Proxy(pooled, {
    get(target, key) {
      const transaction = current.getStore();
      const manager = transaction?.open ? transaction.manager : target;
      const value: unknown = Reflect.get(manager, key, manager);
      return typeof value === 'function' ? value.bind(manager) : value;
    },
  });
}

/**
 * Runs `work` on the pool even when called inside a request transaction: for writes nobody
 * awaits (an audit event from a provider event), which could otherwise still be on their way
 * when the transaction commits and its connection goes back to the pool.
 */
export function outsideRequestTransaction<T>(work: () => T): T {
  return current.exit(work);
}

/**
 * Runs `work` in one transaction that the repositories join; commits when `keep` says the
 * outcome may stand (a refused request's writes, such as a replay's revocation, must stand
 * too), rolls back otherwise or when `work` throws.
 */
export async function inRequestTransaction<T>(dataSource: DataSource, work: () => Promise<T>, keep: (result: T) => boolean): Promise<T> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.startTransaction();
    const transaction: OpenTransaction = { manager: runner.manager, open: true };
    let result: T;
    try {
      result = await current.run(transaction, work);
    } catch (error) {
      transaction.open = false;
      await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
    transaction.open = false;
    // The driver releases a runner whose connection broke, and the server rolls its transaction back.
    if (runner.isReleased) {
      if (keep(result)) throw new TransactionLostError();
      return result;
    }
    if (keep(result)) await runner.commitTransaction();
    else await runner.rollbackTransaction().catch(() => undefined);
    return result;
  } finally {
    // A connection the database dropped is already gone from the pool; the error above is the one to report.
    await runner.release().catch(() => undefined);
  }
}
