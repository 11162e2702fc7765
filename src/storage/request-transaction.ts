import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { batchTransaction, type PgClient } from './batched-transaction.js';

/**
 * One database transaction around a whole request whose writes must land together or not at
 * all. oidc-provider rotates a refresh token in separate adapter calls (consume the old one,
 * save the new one, save the access token: lib/actions/grants/refresh_token.js); if the
 * database or the process dies between them, the client keeps a token that is already
 * consumed, and its retry is taken for a replay that revokes the grant. Run in one
 * transaction, a failure rolls every write back and the client's token still works.
 * Its BEGIN and its token saves travel with the statements after them (batched-transaction.ts).
 */
/** Queues work for when the request transaction has ended (see `createRequestTransactions`). */
export type AfterTransaction = (work: () => Promise<unknown>) => Promise<void>;

interface OpenTransaction<R> {
  manager: EntityManager;
  repositories: R;
  afterwards: Array<() => Promise<unknown>>;
  /** False once committed or rolled back: a late query (an audit write not awaited) uses the pool. */
  open: boolean;
}

/** The transaction's connection broke before it could commit: nothing of it was written. */
class TransactionLostError extends Error {
  /** SQLSTATE connection_failure, so that it reads as the unavailable database it is (unavailable.ts). */
  readonly code = '08006';

  constructor() {
    super('the database connection of the transaction was lost before it committed');
    this.name = 'TransactionLostError';
  }
}

/**
 * `target`'s members, read from whichever object `resolve` names. A method resolves when it is
 * called, not when it is read: one taken at boot (`findAccount(storage.roles.rolesOf)`) still
 * joins the transaction open at the time of the call, instead of staying the pool's and, on
 * the embedded database, waiting for that very transaction.
 */
function delegate<T extends object>(target: T, resolve: () => T | undefined): T {
  const actualOf = (fallback: T): T => resolve() ?? fallback;
  return new Proxy(target, {
    get(fallback, key) {
      const value: unknown = Reflect.get(actualOf(fallback), key);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const actual = actualOf(fallback);
        return (Reflect.get(actual, key) as (...args: unknown[]) => unknown).apply(actual, args);
      };
    },
  });
}

/**
 * Request transactions over `build`'s repositories. Each repository handed out is the
 * request transaction's while one is open and the pool's otherwise, so everything a request
 * reads or writes runs on the one connection: on the embedded database a second connection
 * would wait for the first one's transaction to end (pglite-socket-server.ts), and on
 * PostgreSQL it would take a second pool connection per request.
 *
 * `inTransaction` adapts the transaction's repositories: what it hands to `after` runs on the
 * pool once the transaction has ended, committed or rolled back, before the request goes on.
 */
export function createRequestTransactions<R extends Record<string, object>>(
  dataSource: DataSource,
  build: (manager: EntityManager) => R,
  inTransaction: (repositories: R, after: AfterTransaction) => R = (repositories) => repositories,
  /** Told when a request transaction has ended, committed or rolled back (row-cache.ts settles its writes). */
  ended: (runner: QueryRunner) => void = () => undefined,
) {
  const current = new AsyncLocalStorage<OpenTransaction<R>>();
  const open = () => {
    const transaction = current.getStore();
    if (!transaction?.open) return undefined;
    // The driver released the runner when its connection broke: what the request wrote so far
    // is rolled back, and nothing after it may run elsewhere as if it were part of it.
    if (transaction.manager.queryRunner?.isReleased) throw new TransactionLostError();
    return transaction;
  };
  const pooled = build(dataSource.manager);
  const repositories = {} as R;
  for (const key of Object.keys(pooled) as Array<keyof R>) {
    repositories[key] = delegate(pooled[key], () => open()?.repositories[key]);
  }

  return {
    repositories,
    /** The pool's manager, or the request transaction's (where a nested transaction is a savepoint). */
    manager: delegate(dataSource.manager, () => open()?.manager),

    /**
     * Runs `work` in one transaction that the repositories join; commits when `keep` says the
     * outcome may stand (a refused request's writes, such as a replay's revocation, must stand
     * too), rolls back otherwise or when `work` throws.
     */
    async run<T>(work: () => Promise<T>, keep: (result: T) => boolean): Promise<T> {
      const afterwards: OpenTransaction<R>['afterwards'] = [];
      const after: AfterTransaction = async (later) => {
        afterwards.push(later);
      };
      const runner = dataSource.createQueryRunner();
      let batched: { stop(): void } | undefined;
      let result: T;
      try {
        batched = batchTransaction((await runner.connect()) as PgClient);
        await runner.startTransaction();
        const transaction: OpenTransaction<R> = {
          manager: runner.manager,
          repositories: inTransaction(build(runner.manager), after),
          afterwards,
          open: true,
        };
        try {
          result = await current.run(transaction, work);
        } finally {
          transaction.open = false;
        }
      } catch (error) {
        if (!runner.isReleased) await runner.rollbackTransaction().catch(() => undefined);
        batched?.stop();
        await runner.release().catch(() => undefined);
        ended(runner);
        throw error;
      }
      try {
        // The driver releases a runner whose connection broke, and the server rolls its transaction back.
        if (runner.isReleased) {
          if (keep(result)) throw new TransactionLostError();
        } else if (keep(result)) {
          await runner.commitTransaction();
        } else {
          await runner.rollbackTransaction().catch(() => undefined);
        }
      } finally {
        batched?.stop();
        // A connection the database dropped is already gone from the pool; the error above is the one to report.
        await runner.release().catch(() => undefined);
        ended(runner);
      }
      // Its connection is back in the pool first: these take one of their own.
      for (const later of afterwards) await later();
      return result;
    },

    /**
     * Runs `work` in a transaction of its own, batched like a request transaction
     * (batched-transaction.ts); inside an open request transaction, as a savepoint of it.
     */
    async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
      const transaction = open();
      if (transaction) return transaction.manager.transaction(work);
      const runner = dataSource.createQueryRunner();
      let batched: { stop(): void } | undefined;
      try {
        batched = batchTransaction((await runner.connect()) as PgClient);
        await runner.startTransaction();
        const result = await work(runner.manager);
        await runner.commitTransaction();
        return result;
      } catch (error) {
        if (runner.isTransactionActive && !runner.isReleased) await runner.rollbackTransaction().catch(() => undefined);
        throw error;
      } finally {
        batched?.stop();
        await runner.release().catch(() => undefined);
      }
    },

    /**
     * Runs `work` on the pool even when called inside a request transaction: for writes nobody
     * awaits (an audit event from a provider event), which could otherwise still be on their
     * way when the transaction commits and its connection goes back to the pool.
     */
    outside<T>(work: () => T): T {
      return current.exit(work);
    },
  };
}
