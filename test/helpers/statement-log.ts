import type pg from 'pg';
import type { DataSource } from 'typeorm';

type Query = (...args: unknown[]) => unknown;

/** The text of what pg's `client.query` was given: a string, or a config with `text` (runSql's prepared statements). */
function textOf(first: unknown): string {
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object' && 'text' in first && typeof first.text === 'string') return first.text;
  return '';
}

/**
 * The statements the storage's pool sends, by text, while `during` runs: each connection's
 * `query` is passed through once it is first lent out ('acquire' comes before any statement on
 * it, whether TypeORM, a transaction or runSql's pool.query lends it). Nothing is changed on
 * the way: the real database answers every statement.
 */
/** node-postgres' pool behind a DataSource. */
const poolOf = (dataSource: DataSource) => (dataSource.driver as unknown as { master: pg.Pool }).master;

/** Connections the storage takes from its pool while `work` runs: 0 when what it read came from memory. */
export function poolAcquires(dataSource: DataSource) {
  let acquired = 0;
  poolOf(dataSource).on('acquire', () => {
    acquired++;
  });
  return {
    async during(work: () => Promise<unknown>): Promise<number> {
      const before = acquired;
      await work();
      return acquired - before;
    },
  };
}

export function statementLog(dataSource: DataSource) {
  const pool = poolOf(dataSource);
  const seen = new WeakSet<object>();
  let recording: string[] | undefined;
  pool.on('acquire', (client) => {
    if (seen.has(client)) return;
    seen.add(client);
    const target = client as unknown as { query: Query };
    const query = target.query.bind(client) as Query;
    target.query = (...args: unknown[]) => {
      recording?.push(textOf(args[0]));
      return query(...args);
    };
  });
  return {
    async during<T>(run: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
      const statements: string[] = [];
      recording = statements;
      try {
        return { result: await run(), statements };
      } finally {
        recording = undefined;
      }
    },
  };
}

/** How many statements whose text matches `pattern` the storage's pool sends while `work` runs. */
export function countStatements(dataSource: DataSource, pattern: RegExp) {
  const log = statementLog(dataSource);
  return {
    async during(work: () => Promise<unknown>): Promise<number> {
      const { statements } = await log.during(work);
      return statements.filter((text) => pattern.test(text)).length;
    },
  };
}
