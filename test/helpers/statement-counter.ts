import type pg from 'pg';
import type { DataSource } from 'typeorm';

/**
 * Counts the statements a DataSource's pool sends whose text matches `pattern`: each client's
 * `query` is wrapped the first time the pool hands the client out, which it does before every
 * statement outside a transaction and before every transaction (TypeORM's and runSql's alike).
 * The statements still run; only the text is looked at.
 */
export function countStatements(dataSource: DataSource, pattern: RegExp) {
  const pool = (dataSource.driver as unknown as { master: pg.Pool }).master;
  const wrapped = new WeakSet<pg.PoolClient>();
  let count = 0;
  pool.on('acquire', (client) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    const counting = (...args: unknown[]) => {
      const [first] = args;
      const text = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text;
      if (text !== undefined && pattern.test(text)) count++;
      return query(...args);
    };
    client.query = counting as typeof client.query;
  });
  return {
    /** Statements counted while `work` ran. */
    async during(work: () => Promise<unknown>): Promise<number> {
      const before = count;
      await work();
      return count - before;
    },
  };
}
