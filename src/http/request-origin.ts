import type { Context } from 'koa';
import type { RequestOrigin } from '../security/audit.js';
import { requestIdOf } from './request-id.js';

/** Where a request came from, as security events record it. */
export function requestOrigin(ctx: Context): RequestOrigin {
  return { ip: ctx.ip, userAgent: ctx.get('user-agent'), requestId: requestIdOf(ctx) };
}
