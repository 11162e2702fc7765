import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { requestIdOf } from './request-id.js';
import { routeOf } from './route-template.js';

/** Probes and scrapes arrive every few seconds from machines: debug, so they do not drown the log. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

// Unknown paths are logged as sent; a hostile one is cut short (pino escapes what remains).
const MAX_LOGGED_PATH = 200;

function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/**
 * One JSON line and one histogram sample per request. Runs outside the error handler, so it
 * sees the status the client got. Logs the route template where we have one, else the path,
 * and never the query string (mailed-link tokens, authorization codes and state travel
 * there), headers or bodies.
 */
export function observeRequests(deps: { log: Logger; metrics: Metrics }) {
  return async function observeRequestsMiddleware(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    let status = 500;
    try {
      await next();
      status = ctx.status;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const { route, templated } = routeOf(ctx);
      deps.metrics.httpRequestDuration.observe(
        { route, method: ctx.method, status_class: statusClass(status) },
        seconds,
      );
      const level = QUIET_PATHS.has(ctx.path) ? 'debug' : 'info';
      if (deps.log.isLevelEnabled(level)) {
        deps.log[level](
          {
            reqId: requestIdOf(ctx),
            method: ctx.method,
            // The template where a router matched (ids stay out of the log), else the path.
            path: templated ? route : ctx.path.slice(0, MAX_LOGGED_PATH),
            status,
            durationMs: Math.round(seconds * 1e6) / 1e3,
            ip: ctx.ip,
          },
          'request',
        );
      }
    }
  };
}
