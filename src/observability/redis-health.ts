import type { Logger } from 'pino';
import type { KeyValueStore } from '../storage/key-value-store.js';
import type { Metrics } from './metrics.js';

/** A PING slower than this counts as Redis unavailable: readiness never waits on Redis. */
const REDIS_CHECK_TIMEOUT_MS = 250;

type RedisCheck = { up: true } | { up: false; reason: string };

export interface RedisHealth {
  /**
   * Whether Redis answers now, within REDIS_CHECK_TIMEOUT_MS (always up for the in-process
   * store), and if not, why: the connection's last error (redacted by the store) or the
   * timeout. It is what the `gatehouse_redis_up` gauge reports on each scrape.
   */
  check(): Promise<RedisCheck>;
  available(): Promise<boolean>;
}

/**
 * Redis holds only expendable state: while it is away rate limits and lockouts count in process
 * (src/security/counters.ts) and sign-in works, so its loss is a degraded state to report
 * (/readyz body, log, metric), not a reason to take the replica out of service
 * (docs/operations.md, "Health probes"). Each change is logged once, whichever sees it first:
 * the connection dropping or coming back, or a check meeting a Redis too slow to answer.
 */
export function createRedisHealth(kv: KeyValueStore, deps: { log: Logger; metrics: Metrics }): RedisHealth {
  let last = true;
  const note = (now: RedisCheck) => {
    if (now.up === last) return;
    last = now.up;
    if (now.up) deps.log.info({ redis: kv.description }, 'Redis answers again: readiness is no longer degraded');
    else
      deps.log.warn(
        { redis: kv.description, reason: now.reason },
        'Redis is not answering: this replica serves degraded (in-process rate limits and lockouts) and stays ready',
      );
  };
  kv.onConnectionChange(note);
  // A connection that failed before this was created (at boot) is news too.
  const failed = kv.connectionProblem();
  if (failed) note({ up: false, reason: failed });
  const answers = async (): Promise<RedisCheck> => {
    // Reconnecting: a PING would wait in ioredis's offline queue for its retries; answer now.
    if (!kv.connected()) return { up: false, reason: kv.connectionProblem() ?? 'not connected yet' };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), REDIS_CHECK_TIMEOUT_MS);
    });
    try {
      return (await Promise.race([kv.ping(), late]))
        ? { up: true }
        : { up: false, reason: kv.connectionProblem() ?? `no answer to PING within ${REDIS_CHECK_TIMEOUT_MS} ms` };
    } finally {
      clearTimeout(timer);
    }
  };
  const health: RedisHealth = {
    async check() {
      const now = await answers();
      note(now);
      return now;
    },
    async available() {
      return (await health.check()).up;
    },
  };
  if (kv.kind === 'redis') deps.metrics.observeRedis(() => health.available());
  return health;
}
