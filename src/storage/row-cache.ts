import type { EntityManager, QueryRunner } from 'typeorm';
import type { ChangeFeed } from './change-feed.js';

/**
 * Rows of one table that every protocol request reads (a client's), or every row of a small
 * table as one list that every sign-in page reads (the connections; `wholeTable`), kept in this process
 * between requests and dropped the moment a change to them is known (docs/decisions.md, "Rows
 * kept in memory"). What tells us:
 *  - the change feed: PostgreSQL's notification of a committed change, from any writer;
 *  - this process's own writes, through the repository: `writing` before the statement and
 *    `wrote` after it, so a row is never kept from a read made while our own write was under
 *    way; a write inside a transaction keeps its row out until the transaction has ended
 *    (`settle`), so no one keeps the state it is replacing, and the transaction itself reads
 *    its own write from the database.
 * A read stores its row only if nothing of the table changed while it read (a generation
 * count), and nothing is served or stored while the feed is not live.
 */
export interface RowCache<Row> {
  read(key: string, load: () => Promise<Row | null>): Promise<Row | null>;
  /** `db` is about to write the row `key` (`*`: any row). */
  writing(db: EntityManager, key: string): void;
  /** `db`'s write of `key` has returned. */
  wrote(db: EntityManager, key: string): void;
  /** A transaction's connection: its transaction has ended, what it wrote may be kept again. */
  settle(runner: QueryRunner | undefined): void;
}

/** Every row of the table (TRUNCATE, or a write whose rows are not named). */
export const ALL = '*';

/** Rows are shared between requests: frozen, so that a caller changing one fails loudly instead of changing everyone's. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

export interface RowCacheOptions {
  /** At most this many rows; the oldest goes first. */
  maxEntries?: number;
  /**
   * The table is kept as one value (a list of every row, under the key `*`): a change to any of
   * its rows, announced or written here, drops it, and a transaction's write of any row keeps it
   * out until that transaction has ended.
   */
  wholeTable?: boolean;
}

export function createRowCache<Row extends object>(
  feed: ChangeFeed,
  table: string,
  options: RowCacheOptions = {},
): RowCache<Row> {
  const maxEntries = options.maxEntries ?? 10_000;
  /** Which kept value a change to the row `key` makes stale. */
  const keyOf = (key: string) => (options.wholeTable ? ALL : key);
  const rows = new Map<string, Row>();
  /** Keys written by transactions still open, with how many. */
  const pending = new Map<string, number>();
  const written = new WeakMap<QueryRunner, string[]>();
  let generation = 0;

  const drop = (key: string) => {
    generation++;
    if (key === ALL) rows.clear();
    else rows.delete(key);
  };
  feed.subscribe((event) => {
    if (event === 'reset') drop(ALL);
    else if (event.table === table) drop(keyOf(event.id));
  });
  const openTransaction = (db: EntityManager) => {
    const runner = db.queryRunner;
    return runner && runner.isTransactionActive && !runner.isReleased ? runner : undefined;
  };
  const isPending = (key: string) => pending.has(key) || pending.has(ALL);

  return {
    async read(wanted, load) {
      const key = keyOf(wanted);
      if (!feed.isLive()) {
        if (rows.size > 0) drop(ALL);
        return load();
      }
      const kept = rows.get(key);
      if (kept) return kept;
      const before = generation;
      const row = await load();
      if (row && generation === before && feed.isLive() && !isPending(key)) {
        if (rows.size >= maxEntries) {
          const oldest = rows.keys().next();
          if (!oldest.done) rows.delete(oldest.value);
        }
        rows.set(key, deepFreeze(row));
      }
      return row;
    },
    writing(db, row) {
      const key = keyOf(row);
      drop(key);
      const runner = openTransaction(db);
      if (!runner) return;
      pending.set(key, (pending.get(key) ?? 0) + 1);
      const keys = written.get(runner) ?? [];
      keys.push(key);
      written.set(runner, keys);
    },
    wrote(db, row) {
      if (!openTransaction(db)) drop(keyOf(row));
    },
    settle(runner) {
      if (!runner || (runner.isTransactionActive && !runner.isReleased)) return;
      const keys = written.get(runner);
      if (!keys) return;
      written.delete(runner);
      for (const key of keys) {
        const count = (pending.get(key) ?? 1) - 1;
        if (count > 0) pending.set(key, count);
        else pending.delete(key);
        drop(key);
      }
    },
  };
}

/**
 * A repository's writes of a kept table: `write` runs between `writing` and `wrote`, so no
 * process keeps the row it replaces (`key` names the row, `*` every row of the table).
 */
export function writesThrough<Row>(kept: RowCache<Row> | undefined, db: EntityManager) {
  return async <T>(key: string, write: () => Promise<T>): Promise<T> => {
    kept?.writing(db, key);
    try {
      return await write();
    } finally {
      kept?.wrote(db, key);
    }
  };
}
