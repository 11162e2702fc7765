import type { ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';

/**
 * Whether shutdown has begun. From then on /readyz answers 503 (the load balancer stops
 * sending) and every response closes its connection, so keep-alive clients reconnect to
 * another replica instead of queueing on one that is leaving.
 */
export interface Draining {
  readonly active: boolean;
  start(): void;
  /** A response in flight: marked to close its connection if shutdown begins before its head is sent. */
  track(res: ServerResponse): () => void;
}

/** Makes Node close the connection after this response, if its head has not gone out yet. */
function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}

export function createDraining(): Draining {
  let active = false;
  const inFlight = new Set<ServerResponse>();
  return {
    get active() {
      return active;
    },
    start() {
      active = true;
      for (const res of inFlight) closeAfter(res);
    },
    track(res) {
      if (active) closeAfter(res);
      else inFlight.add(res);
      return () => inFlight.delete(res);
    },
  };
}

/**
 * Sets Connection: close on the raw response, not only on Koa's: a handler that writes the
 * response itself (oidc-provider's interactionFinished, the sign-in's 303) sends its head
 * before this middleware's `next()` returns, and a request in flight when SIGTERM came would
 * otherwise keep its connection alive for the keep-alive timeout (5 s), holding the exit.
 */
export function closeConnectionsWhileDraining(draining: Draining) {
  return async function closeConnectionsWhileDrainingMiddleware(ctx: Context, next: Next): Promise<void> {
    const untrack = draining.track(ctx.res);
    try {
      await next();
    } finally {
      untrack();
    }
    if (draining.active) ctx.set('Connection', 'close');
  };
}
