import Router from '@koa/router';
import type { Logger } from 'pino';
import type { Storage } from '../storage/storage.js';
import { hasPendingMigrations } from '../storage/data-source.js';
import type { Metrics } from '../observability/metrics.js';
import { createRedisHealth } from '../observability/redis-health.js';
import type { Draining } from './draining.js';

/**
 * How long /readyz waits for PostgreSQL before it calls the replica unready: below the Helm
 * chart's probe timeout (2 s), so the probe gets our 503 rather than timing out itself.
 */
const DATABASE_CHECK_TIMEOUT_MS = 1500;

/** What /readyz answers: whether to send traffic here, and what works only in part. */
type Readiness =
  { status: 'ready' } | { status: 'degraded'; redis: 'unavailable'; reason: string } | { status: 'unavailable' };

/** Resolves to `fallback` when `work` has not settled within `ms`, and to it when `work` fails. */
async function within<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([work.catch(() => fallback), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Liveness and readiness: cheap and unauthenticated. Readiness reports only what a replica
 * cannot serve without: PostgreSQL (the system of record) with every migration applied, and
 * not shutting down. Redis loss is "degraded", still 200: sign-in works on in-process limits
 * (docs/operations.md, "Health probes"), and a 503 there would take every replica out of the
 * load balancer at once for an outage none of them can fix.
 */
export function createHealthRouter(
  storage: Storage,
  draining: Draining,
  deps: { log: Logger; metrics: Metrics },
): Router {
  const redis = createRedisHealth(storage.kv, deps);
  const databaseReady = async () => {
    await storage.dataSource.query('SELECT 1');
    return !(await hasPendingMigrations(storage.dataSource));
  };
  const readiness = async (): Promise<Readiness> => {
    // A replica that is shutting down is not ready, whatever its stores say: the load balancer drains it.
    if (draining.active) return { status: 'unavailable' };
    const [database, redisNow] = await Promise.all([
      within(databaseReady(), DATABASE_CHECK_TIMEOUT_MS, false),
      redis.check(),
    ]);
    if (!database) return { status: 'unavailable' };
    // The reason is the driver's (e.g. "connect ECONNREFUSED 10.0.0.5:6379"), credentials removed.
    return redisNow.up ? { status: 'ready' } : { status: 'degraded', redis: 'unavailable', reason: redisNow.reason };
  };

  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const answer = await readiness();
    ctx.status = answer.status === 'unavailable' ? 503 : 200;
    ctx.body = answer;
  });
  return router;
}
