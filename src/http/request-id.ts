import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';

export const REQUEST_ID_HEADER = 'X-Request-Id';

// A caller's id (a load balancer's) is kept only when it is short and plain: it ends up in
// logs and audit rows, so it must not carry markup or line breaks.
const ACCEPTABLE = /^[A-Za-z0-9._:-]{8,64}$/;

/** The caller's id when it is acceptable, else a new one. */
export function requestIdFor(presented: string | undefined): string {
  return presented !== undefined && ACCEPTABLE.test(presented) ? presented : randomUUID();
}

/** Gives every request an id, returned in X-Request-Id and recorded with its audit events. */
export async function assignRequestId(ctx: Context, next: Next): Promise<void> {
  const id = requestIdFor(ctx.get(REQUEST_ID_HEADER));
  ctx.state.requestId = id;
  ctx.set(REQUEST_ID_HEADER, id);
  await next();
}

export function requestIdOf(ctx: Context): string | null {
  return typeof ctx.state.requestId === 'string' ? ctx.state.requestId : null;
}
