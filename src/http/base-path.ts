import type { Context, Middleware } from 'koa';

/** koa-mount leaves the prefix it matched on the context (src/app.ts mounts the app under the issuer's path). */
interface MountedContext {
  mountPath?: unknown;
}

/**
 * A path of ours as the browser must ask for it: under the prefix the app is mounted at
 * (`/account` → `/auth/account` for the issuer https://id.example.com/auth). It reads the
 * prefix where oidc-provider reads it for its own URLs (OIDCContext.urlFor: `ctx.mountPath`),
 * so our links and the provider's agree. Unmounted (an issuer without a path) it is the path.
 */
export function underBase(ctx: Context, path: string): string {
  const { mountPath } = ctx as Context & MountedContext;
  return typeof mountPath === 'string' && mountPath !== '/' ? `${mountPath}${path}` : path;
}

/**
 * What a request outside the issuer's path prefix gets: a plain 404 with the security headers
 * every answer carries. Nothing of Gatehouse lives there (docs/decisions.md, "The issuer may
 * have a path prefix").
 */
export function outsideBasePath(headers: Record<string, string>): Middleware {
  return function outsideBasePathMiddleware(ctx: Context): void {
    ctx.set(headers);
    ctx.status = 404;
    ctx.body = 'Not Found';
  };
}
