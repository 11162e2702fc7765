import { randomUUID } from 'node:crypto';

/**
 * The stores a suite runs on. The embedded store (PGlite, in-process counters, no Redis) runs
 * the same SQL as PostgreSQL, so most of what an HTTP suite proves does not depend on it, while
 * each test there is 2.2–2.6× slower (issue 16). So the matrix is split:
 *
 * - `HTTP_BACKENDS` (PostgreSQL + Redis, the production shape): every HTTP suite.
 * - `STORE_BACKENDS` (both): suites about where the stores differ — the storage and adapter
 *   contract, boot and shutdown, the token transaction and races on one connection (PGlite's
 *   socket server gives a transaction the whole session), in-process counters, text PostgreSQL
 *   cannot store, stored digests — and test/integration/embedded-smoke.test.ts, one end-to-end
 *   pass per area on the embedded store. The list and its reasons: docs/decisions.md, "Test suite".
 *
 * TEST_BACKENDS=embedded,postgres, when set, is both lists, so `TEST_BACKENDS=embedded npm test`
 * still runs the whole integration suite on the embedded store only (README).
 */
export type Backend = 'embedded' | 'postgres';

/** TEST_BACKENDS as a list, or undefined when it is unset or empty. */
const chosen: Backend[] | undefined = process.env.TEST_BACKENDS?.trim()
  ? process.env.TEST_BACKENDS.split(',')
      .map((b) => b.trim())
      .filter((b): b is Backend => b === 'embedded' || b === 'postgres')
  : undefined;

/** Both stores, or TEST_BACKENDS: for suites whose behaviour depends on the store. */
export const STORE_BACKENDS: Backend[] = chosen ?? ['embedded', 'postgres'];

/** PostgreSQL + Redis, or TEST_BACKENDS: for HTTP suites, whose behaviour does not depend on the store. */
export const HTTP_BACKENDS: Backend[] = chosen ?? ['postgres'];

/** Booting a server or opening a store (embedded PostgreSQL, migrations, keys) can be slow on a busy machine. */
export const BOOT_TIMEOUT = 120_000;

export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/**
 * Every test server on PostgreSQL shares the one Redis, and counters live there for as long
 * as their window (an hour for some limits): a fresh prefix per server keeps one suite's or
 * one earlier run's counters from refusing another's requests.
 */
export function freshRedisKeyPrefix(): string {
  return `gh-test-${randomUUID()}:`;
}

/**
 * argon2id at the schema's floor (8 MiB, one pass) for test servers and service-tier stores:
 * ~10 ms of CPU per hash or check instead of ~40 at the shipped default, for thousands of
 * them a run. The shipped default is checked by test/unit/config.suite.ts, and what the cost
 * parameters do (rehash on change, import of other costs) by tests that set their own.
 */
export const TEST_ARGON2 = { memoryKiB: 8192, timeCost: 1, parallelism: 1 } as const;
