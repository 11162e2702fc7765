import type { Logger } from 'pino';
import type { KeyValueStore } from '../storage/key-value-store.js';
import type { Metrics } from './metrics.js';

/** A PING slower than this counts as Redis unavailable: readiness never waits on Redis. */
export const REDIS_CHECK_TIMEOUT_MS = 250;

export interface RedisHealth {
  /**
   * Whether Redis answers now, within REDIS_CHECK_TIMEOUT_MS (always true for the in-process
   * store). Each change is logged once, when a check first sees it, and is what the
   * `gatehouse_redis_up` gauge reports on each scrape.
   */
  available(): Promise<boolean>;
}

/**
 * Redis holds only expendable state: while it is away rate limits and lockouts count in process
 * (src/security/counters.ts) and sign-in works, so its loss is a degraded state to report
 * (/readyz body, log, metric), not a reason to take the replica out of service
 * (docs/operations.md, "Health probes").
 */
export function createRedisHealth(kv: KeyValueStore, deps: { log: Logger; metrics: Metrics }): RedisHealth {
  let last = true;
  const answers = async (): Promise<boolean> => {
    // Reconnecting: a PING would wait in ioredis's offline queue for its retries; answer now.
    if (!kv.connected()) return false;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), REDIS_CHECK_TIMEOUT_MS); });
    try {
      return await Promise.race([kv.ping(), late]);
    } finally {
      clearTimeout(timer);
    }
  };
  const health: RedisHealth = {
    async available() {
      const now = await answers();
      if (now !== last) {
        last = now;
        if (now) deps.log.info('Redis answers again: readiness is no longer degraded');
        else deps.log.warn('Redis is not answering: this replica serves degraded (in-process rate limits and lockouts) and stays ready');
      }
      return now;
    },
  };
  if (kv.kind === 'redis') deps.metrics.observeRedis(() => health.available());
  return health;
}
