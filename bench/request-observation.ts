/**
 * CPU per request of the request log line and the duration histogram (src/http/request-log.ts),
 * measured on the middleware itself with a route-matched context: what observability adds to
 * every request, whatever the route. Run: npx tsx bench/request-observation.ts
 */
import { Writable } from 'node:stream';
import type { Context } from 'koa';
import { createLogger } from '../src/http/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import { observeRequests } from '../src/http/request-log.js';

const REQUESTS = 200_000;
const devNull = new Writable({
  write(_chunk, _enc, done) {
    done();
  },
});

function fakeContext(): Context {
  return {
    method: 'POST',
    path: '/token',
    status: 200,
    ip: '10.0.0.7',
    state: { requestId: '3f1c7a52-6a0e-4f57-9c2b-0d3a3c8f9e11' },
    _matchedRoute: '/token',
  } as unknown as Context;
}

async function cpuMicrosPerRequest(
  middleware: (ctx: Context, next: () => Promise<void>) => Promise<void>,
): Promise<number> {
  const next = () => Promise.resolve();
  for (let i = 0; i < 20_000; i++) await middleware(fakeContext(), next);
  const start = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i++) await middleware(fakeContext(), next);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / REQUESTS;
}

const baseline = await cpuMicrosPerRequest(async (_ctx, next) => {
  await next();
});
const silent = await cpuMicrosPerRequest(observeRequests({ log: createLogger('silent'), metrics: createMetrics() }));
const info = await cpuMicrosPerRequest(
  observeRequests({ log: createLogger('info', devNull), metrics: createMetrics() }),
);
process.stdout.write(
  `${JSON.stringify(
    {
      requests: REQUESTS,
      baselineMicros: Number(baseline.toFixed(2)),
      metricsOnlyMicros: Number((silent - baseline).toFixed(2)),
      metricsAndLogLineMicros: Number((info - baseline).toFixed(2)),
    },
    null,
    2,
  )}\n`,
);
