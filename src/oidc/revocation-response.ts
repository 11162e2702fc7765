import type { Context, Next } from 'koa';

/**
 * RFC 7009 §2.2: a successful revocation is a 200 whose body the client ignores.
 * oidc-provider answers it with an empty string, which Koa sends as `text/plain`, and
 * oidc-client-ts refuses any answer that is not JSON ("Invalid response Content-Type",
 * its issue #2272): an SPA's revokeTokens() failed and the user stayed signed in. An empty
 * JSON object is what every client accepts, whether it parses the body or not.
 */
export function answerRevocationWithJson(revocationPath: string) {
  return async function answerRevocationWithJsonMiddleware(ctx: Context, next: Next): Promise<void> {
    await next();
    if (ctx.method === 'POST' && ctx.path === revocationPath && ctx.status === 200) ctx.body = {};
  };
}
