import type { Context, Next } from 'koa';
import { basicCredentials } from '../oidc/client-secret.js';
import { readFormBody } from '../http/request-body.js';
import type { RateLimits } from './rate-limits.js';

/** The client a token request names: HTTP Basic (RFC 6749 §2.3.1) or the form's client_id (§2.3.1, §3.2.1). */
async function clientIdOf(ctx: Context): Promise<string | undefined> {
  const authorization = ctx.get('authorization');
  if (authorization) return basicCredentials(authorization)?.clientId;
  const form = await readFormBody(ctx);
  return typeof form?.client_id === 'string' ? form.client_id : undefined;
}

/**
 * Mounted in front of oidc-provider: token requests are limited per client_id. A request
 * naming no client is left for the provider to refuse (invalid_client); the client is not
 * authenticated yet, so a flood under someone else's client_id costs that client its budget
 * but never lets a request through that the provider would refuse.
 */
export function limitTokenRequests(limits: RateLimits, tokenPath: string) {
  return async function limitTokenRequestsMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.method === 'POST' && ctx.path === tokenPath) {
      const clientId = await clientIdOf(ctx);
      if (clientId) await limits.consume(ctx, 'tokenClient', `client:${clientId}`);
    }
    return next();
  };
}
