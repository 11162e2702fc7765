import Router from '@koa/router';
import type { Storage } from '../storage/storage.js';
import { hasPendingMigrations } from '../storage/data-source.js';
import type { Draining } from './draining.js';

/** Liveness and readiness: cheap, unauthenticated, and they reveal nothing but up/down. */
export function createHealthRouter(storage: Storage, draining: Draining): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    // A replica that is shutting down is not ready, whatever its stores say: the load balancer drains it.
    const ready = !draining.active && await Promise.all([
      storage.dataSource.query('SELECT 1').then(() => true, () => false),
      storage.kv.ping(),
      hasPendingMigrations(storage.dataSource).then((pending) => !pending, () => false),
    ]).then((checks) => checks.every(Boolean));
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unavailable' };
  });
  return router;
}
