import type { Context, Next } from 'koa';
import { clientIdAtClientAuth } from '../oidc/pending-clients.js';
import type { RateLimits } from './rate-limits.js';

/**
 * Mounted in front of oidc-provider: token requests are limited per client_id. A request
 * naming no client is left for the provider to refuse (invalid_client); the client is not
 * authenticated yet, so a flood under someone else's client_id costs that client its budget
 * but never lets a request through that the provider would refuse.
 */
export function limitTokenRequests(limits: RateLimits, tokenPath: string) {
  return async function limitTokenRequestsMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.method === 'POST' && ctx.path === tokenPath) {
      const clientId = await clientIdAtClientAuth(ctx);
      if (clientId) await limits.consume(ctx, 'tokenClient', `client:${clientId}`);
    }
    return next();
  };
}
