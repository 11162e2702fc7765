import type { Context, Next } from 'koa';
import { readFormBody } from '../http/request-body.js';

/**
 * OIDC Core 3.1.2.1 (the OP MUST support GET and POST at the authorization endpoint, POST
 * with the form serialisation of §13.2) and RP-Initiated Logout 1.0 §2 (the same at the
 * logout endpoint).
 *
 * oidc-provider serves POST there only with `enableHttpPostMethods`, which it refuses unless
 * the session cookie is SameSite=None (lib/helpers/configuration.js checkPostMethods); a
 * browser drops a SameSite=None cookie that is not Secure, and an http (loopback) issuer
 * cannot set Secure: turning the option on would end every session there. So a form POST
 * to these endpoints is served as the GET with the same parameters: the provider runs the
 * same endpoint code, and the session cookie's SameSite follows the issuer's scheme
 * (src/oidc/options.ts, docs/decisions.md "Authorization requests by POST").
 *
 * The provider reads only the body of a POST, so a query string on one is dropped, as it
 * would be. A POST that is not a form is left alone: no route answers it (404).
 */
export function serveFormPostsAsGet(paths: readonly string[]) {
  return async function serveFormPostsAsGetMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.method === 'POST' && paths.includes(ctx.path) && ctx.is('application/x-www-form-urlencoded')) {
      const form = await readFormBody(ctx);
      if (form) {
        const query = new URLSearchParams();
        for (const [name, value] of Object.entries(form)) {
          // Repeated parameters stay repeated, for the provider to refuse (OAuth 2.0 §3.1).
          for (const one of Array.isArray(value) ? value : [value]) query.append(name, one);
        }
        ctx.method = 'GET';
        ctx.querystring = query.toString();
        try {
          await next();
        } finally {
          // The request log and metrics (src/http/request-log.ts) report what the client sent.
          ctx.method = 'POST';
        }
        return;
      }
    }
    await next();
  };
}
