import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';
import type { MetadataSnapshot, PrecomputedResponse } from '../oidc/metadata-snapshot.js';
import type { Metrics } from '../observability/metrics.js';
import type { Draining } from './draining.js';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id.js';
import { matchesIfNoneMatch } from './etag.js';

const fixed = new WeakMap<PrecomputedResponse, Record<string, string>>();

/** The provider's headers plus our caching ones; the same for every request, so built once per snapshot. */
function documentHeaders(response: PrecomputedResponse): Record<string, string> {
  let headers = fixed.get(response);
  if (!headers) {
    // Vary: Origin is what oidc-provider's CORS middleware adds; nothing before this sets Vary.
    headers = {
      ...response.headers,
      'Cache-Control': `public, max-age=${response.maxAgeSeconds}`,
      ETag: response.etag,
      Vary: 'Origin',
    };
    fixed.set(response, headers);
  }
  return headers;
}

/** What oidc-provider's CORS middleware does for these routes (lib/shared/cors.js, CORS.open). */
function allowedOrigin(response: PrecomputedResponse, origin: string | undefined): string | null {
  return response.cors ? origin || '*' : null;
}

const ALLOW_ORIGIN = 'Access-Control-Allow-Origin';

/**
 * Answers GET and HEAD for the discovery documents and the JWKS from the provider's own bytes,
 * taken at boot and after every key reload (src/oidc/metadata-snapshot.ts), with a strong ETag
 * and If-None-Match → 304. Anything else (another method, another origin, no snapshot yet)
 * goes on to oidc-provider unchanged. Mounted before the per-request work these documents do
 * not need (language negotiation, the error page renderer).
 */
export function serveProviderMetadata(current: () => MetadataSnapshot | null) {
  return async function serveProviderMetadataMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const snapshot = current();
    const response = snapshot?.byPath.get(ctx.path);
    // The origin oidc-provider builds its URLs from (ctx.href); a request line in absolute form
    // ("GET http://host/jwks") carries its own, so it is left to the provider.
    if (
      !snapshot ||
      !response ||
      !ctx.originalUrl.startsWith('/') ||
      `${ctx.protocol}://${ctx.host}` !== snapshot.origin
    )
      return next();
    ctx.set(documentHeaders(response));
    const allowed = allowedOrigin(response, ctx.get('Origin'));
    if (allowed) ctx.set(ALLOW_ORIGIN, allowed);
    ctx.status = 200;
    if (matchesIfNoneMatch(ctx, response.etag)) {
      ctx.status = 304;
      return;
    }
    ctx.body = response.body;
  };
}

/**
 * The origin of a plain request as Koa would see it, read straight from the headers. Lists,
 * odd case or spacing give a string that matches no issuer, which only sends the request the
 * long way (through Koa, where the middleware above reads it exactly).
 */
function plainOrigin(req: IncomingMessage, trustForwardedHeaders: boolean): string {
  const forwardedHost = trustForwardedHeaders ? req.headers['x-forwarded-host'] : undefined;
  const forwardedProto = trustForwardedHeaders ? req.headers['x-forwarded-proto'] : undefined;
  const encrypted = 'encrypted' in req.socket && req.socket.encrypted === true;
  return `${encrypted ? 'https' : forwardedProto || 'http'}://${forwardedHost || req.headers.host}`;
}

export type EarlyResponder = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * The same answers for the commonest request (an unconditional GET or HEAD of the exact path
 * for the issuer's origin), written before Koa builds a context: Koa's context and response
 * handling are a fifth of what these requests cost (docs/benchmarks.md). It writes the headers
 * the middleware stack would (security headers, X-Request-Id) and counts the request in the
 * duration histogram under its path, as oidc-provider's router named it; it writes no log line
 * (a public, static document fetched by machines, like the probes). It returns false for
 * anything else, and while draining (the stack then closes the connection), which then takes
 * the ordinary path.
 */
export function answerMetadataEarly(options: {
  current: () => MetadataSnapshot | null;
  /** Koa's `app.proxy`: true when `http.trustedProxyHops` > 0 (src/http/proxy-trust.ts). */
  trustForwardedHeaders: boolean;
  securityHeaders: Record<string, string>;
  /** The issuer's path prefix ('' for none): the documents are answered under it only. */
  basePath: string;
  draining: Pick<Draining, 'active'>;
  metrics: Pick<Metrics, 'httpRequestDuration'>;
}): EarlyResponder {
  // The fixed headers as a flat [name, value, …] list per document: building a header object
  // per request was a sixth of this path's CPU in the profile.
  const fixedLists = new WeakMap<PrecomputedResponse, string[]>();
  const fixedList = (response: PrecomputedResponse) => {
    let list = fixedLists.get(response);
    if (!list) {
      list = Object.entries({
        ...options.securityHeaders,
        ...documentHeaders(response),
        'Content-Length': String(response.body.length),
      }).flat();
      fixedLists.set(response, list);
    }
    return list;
  };
  return function answerMetadata(req: IncomingMessage, res: ServerResponse): boolean {
    const started = process.hrtime.bigint();
    const { method, headers } = req;
    if ((method !== 'GET' && method !== 'HEAD') || options.draining.active) return false;
    const snapshot = options.current();
    const url = req.url ?? '';
    // The path under the prefix, as the mounted app (and the provider's router) sees it.
    const path = url.startsWith(options.basePath) ? url.slice(options.basePath.length) : '';
    const response = snapshot?.byPath.get(path);
    if (!snapshot || !response || headers['if-none-match'] !== undefined) return false;
    if (plainOrigin(req, options.trustForwardedHeaders) !== snapshot.origin) return false;
    const presentedId = headers['x-request-id'];
    const list = fixedList(response).slice();
    list.push(REQUEST_ID_HEADER, requestIdFor(typeof presentedId === 'string' ? presentedId : undefined));
    const allowed = allowedOrigin(response, headers.origin);
    if (allowed) list.push(ALLOW_ORIGIN, allowed);
    res.writeHead(200, list);
    // Node sends no body for HEAD by itself.
    res.end(response.body);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    options.metrics.httpRequestDuration.observe({ route: path, method, status_class: '2xx' }, seconds);
    return true;
  };
}
