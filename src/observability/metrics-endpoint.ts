import { createServer, type Server } from 'node:http';
import type { Context, Next } from 'koa';
import type { Registry } from 'prom-client';

const METRICS_PATH = '/metrics';

async function exposition(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/**
 * /metrics on the main port (metrics.port 0). Only mounted when metrics are enabled; the
 * main port is usually the public one, so docs/operations.md says to block the path there.
 */
export function serveMetrics(registry: Registry) {
  return async function serveMetricsMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== METRICS_PATH) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      ctx.status = 405;
      return;
    }
    const { contentType, body } = await exposition(registry);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = contentType;
    ctx.body = body;
  };
}

/**
 * The separate metrics listener (metrics.port > 0): a bare HTTP server that answers GET
 * /metrics and 404 to everything else, so nothing of the identity provider is reachable on it.
 */
export function createMetricsServer(registry: Registry): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(path === METRICS_PATH ? 405 : 404, {
        'Content-Type': 'text/plain; charset=utf-8',
        ...(path === METRICS_PATH ? { Allow: 'GET, HEAD' } : {}),
      });
      res.end(path === METRICS_PATH ? 'method not allowed\n' : 'not found\n');
      return;
    }
    exposition(registry).then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('metrics unavailable\n');
      },
    );
  });
}
