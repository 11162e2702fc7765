import { randomUUID } from 'node:crypto';

/** Backends the integration suite runs on: TEST_BACKENDS=embedded,postgres (default both). */
export type Backend = 'embedded' | 'postgres';

export const BACKENDS: Backend[] = (process.env.TEST_BACKENDS ?? 'embedded,postgres')
  .split(',').map((b) => b.trim()).filter((b): b is Backend => b === 'embedded' || b === 'postgres');

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
