import type { Context, Next } from 'koa';

/**
 * Whether shutdown has begun. From then on /readyz answers 503 (the load balancer stops
 * sending) and every response closes its connection, so keep-alive clients reconnect to
 * another replica instead of queueing on one that is leaving.
 */
export interface Draining {
  readonly active: boolean;
  start(): void;
}

export function createDraining(): Draining {
  let active = false;
  return {
    get active() {
      return active;
    },
    start() {
      active = true;
    },
  };
}

export function closeConnectionsWhileDraining(draining: Draining) {
  return async function closeConnectionsWhileDrainingMiddleware(ctx: Context, next: Next): Promise<void> {
    await next();
    if (draining.active) ctx.set('Connection', 'close');
  };
}
