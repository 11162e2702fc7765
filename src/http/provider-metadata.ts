import type { Context, Next } from 'koa';
import type { MetadataSnapshot } from '../oidc/metadata-snapshot.js';

/**
 * Discovery and JWKS change only with the configuration (a restart) or a key rotation. Five
 * minutes bounds how long a cache can hold a key set after a rotation (new keys sign at once,
 * and relying parties that refetch only on expiry would miss them meanwhile); revalidating after
 * that costs a 304. docs/provider-metadata.md.
 */
export const METADATA_CACHE_CONTROL = 'public, max-age=300';

/**
 * Answers GET and HEAD for the discovery document and the JWKS from the provider's own bytes,
 * taken at boot and after every key reload (src/oidc/metadata-snapshot.ts), with a strong ETag
 * and If-None-Match → 304. Anything else (another method, another origin, no snapshot yet)
 * goes on to oidc-provider unchanged. Mounted before the per-request work these two documents
 * do not need (language negotiation, the error page renderer).
 */
export function serveProviderMetadata(current: () => MetadataSnapshot | null) {
  return async function serveProviderMetadataMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const snapshot = current();
    const response = snapshot?.byPath.get(ctx.path);
    // The origin oidc-provider builds its URLs from (ctx.href); a request line in absolute form
    // ("GET http://host/jwks") carries its own, so it is left to the provider.
    if (!snapshot || !response || !ctx.originalUrl.startsWith('/') || `${ctx.protocol}://${ctx.host}` !== snapshot.origin) return next();
    ctx.set(response.headers);
    ctx.set('Cache-Control', METADATA_CACHE_CONTROL);
    ctx.set('ETag', response.etag);
    ctx.vary('Origin');
    // What oidc-provider's CORS middleware does for these routes (lib/shared/cors.js, CORS.open).
    if (response.cors) ctx.set('Access-Control-Allow-Origin', ctx.get('Origin') || '*');
    ctx.status = 200;
    // ctx.fresh compares If-None-Match with the ETag above (RFC 9110 §13.1.2).
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.body = response.body;
  };
}
