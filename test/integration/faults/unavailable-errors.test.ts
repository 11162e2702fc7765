import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { POSTGRES_ADMIN_URL } from '../../helpers/backends.js';
import { freePort } from '../../helpers/ports.js';
import { isDatabaseUnavailable } from '../../../src/storage/unavailable.js';
import { createDataSource } from '../../../src/storage/data-source.js';

/** The error a call rejects with; fails the test when it succeeds. */
async function failureOf(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

/** Real driver errors, not hand-made ones: what the classifier sees in production. */
describe('which database errors are "unavailable" (503) and which are not (500)', () => {
  it("counts a refused connection, the pool's connect timeout and a statement cancelled at its timeout", async () => {
    const port = await freePort();
    const refused = await failureOf(async () => {
      const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
      await client.connect();
    });
    expect(isDatabaseUnavailable(refused)).toBe(true);

    // A 1 s connect timeout instead of the 5 s servers use: the error is the same, the wait shorter.
    const dataSource = createDataSource({ url: POSTGRES_ADMIN_URL }, 1, {
      statementTimeoutSeconds: 1,
      connectTimeoutMs: 1000,
    });
    await dataSource.initialize();
    try {
      // statement_timeout is 1 s here: PostgreSQL cancels the statement with 57014.
      const cancelled = await failureOf(() => dataSource.query('SELECT pg_sleep(3)'));
      expect(cancelled).toBeInstanceOf(QueryFailedError);
      expect(isDatabaseUnavailable(cancelled)).toBe(true);

      // The pool's one connection is taken: the next statement gives up after the connect timeout.
      const holder = dataSource.createQueryRunner();
      await holder.connect();
      try {
        expect(isDatabaseUnavailable(await failureOf(() => dataSource.query('SELECT 1')))).toBe(true);
      } finally {
        await holder.release();
      }

      // A bug of ours stays a 500: a syntax error, a missing table, a broken constraint.
      expect(isDatabaseUnavailable(await failureOf(() => dataSource.query('SELEC 1')))).toBe(false);
      expect(isDatabaseUnavailable(await failureOf(() => dataSource.query('SELECT * FROM no_such_table')))).toBe(false);
      expect(isDatabaseUnavailable(await failureOf(() => dataSource.query('SELECT 1/0')))).toBe(false);
    } finally {
      await dataSource.destroy();
    }
  }, 60_000);

  it('does not count what is not a database error', () => {
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable(new Error('something else'))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
  });
});
