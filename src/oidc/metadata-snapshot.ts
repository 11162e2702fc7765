import { strongEtag } from '../http/etag.js';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import mount from 'koa-mount';
import type Provider from 'oidc-provider';
import { issuerBasePath } from '../config/issuer.js';

/** One of oidc-provider's answers, kept as bytes so that it can be replayed without the provider. */
export interface PrecomputedResponse {
  body: Buffer;
  /** Strong validator (RFC 9110 §8.8.3): a digest of the exact bytes. */
  etag: string;
  /** The provider's response headers, less those that belong to one connection or one request. */
  headers: Record<string, string>;
  /** How long caches may keep it (see metadataMaxAge). */
  maxAgeSeconds: number;
  /** oidc-provider answered with CORS headers: it reflects the request's Origin, or `*` (lib/shared/cors.js). */
  cors: boolean;
}

export interface MetadataSnapshot {
  /**
   * The issuer's origin. The documents hold absolute URLs built from the request's origin
   * (oidc-provider's OIDCContext.urlFor), so they are replayed only to requests with this
   * origin; any other (an internal host name, an untrusted proxy) still goes to the provider.
   */
  origin: string;
  /** Request path under the issuer's path prefix → the provider's answer. */
  byPath: ReadonlyMap<string, PrecomputedResponse>;
}

/**
 * Headers that describe one exchange, not the document: Koa and Node set them per response,
 * and CORS and Vary depend on the request (the replaying middleware sets them again).
 */
const PER_EXCHANGE = new Set([
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'vary',
  'access-control-allow-origin',
  'access-control-expose-headers',
]);

function replayable(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || PER_EXCHANGE.has(name)) continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

function listenOnLoopback(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function get(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`oidc-provider did not answer ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * How long HTTP caches may keep each document (docs/provider-metadata.md). Discovery changes
 * only with the configuration, i.e. with a rolling restart: five minutes. A rotated key set is
 * on every replica within `reloadIntervalSeconds` and signs after `activationDelaySeconds`; a
 * cache that took the old JWKS just before the rotation must have let it go by then, or a
 * relying party refetching through it would not find the new key: the JWKS may be kept for
 * the difference (0 for a single process that signs at once: a revalidation, answered 304).
 */
export function metadataMaxAge(keys: { reloadIntervalSeconds: number; activationDelaySeconds: number }): {
  discovery: number;
  jwks: number;
} {
  return { discovery: 300, jwks: Math.max(0, keys.activationDelaySeconds - keys.reloadIntervalSeconds) };
}

/**
 * The documents that are the same for every caller. The two discovery paths are fixed by
 * OIDC Discovery §4 and RFC 8414 §3 (oidc-provider registers both under one route name, so
 * pathFor cannot tell them apart); the JWKS path is configurable.
 */
function metadataPaths(provider: Provider): Array<{ path: string; kind: 'discovery' | 'jwks' }> {
  // mountPath '': Gatehouse mounts the provider at the root of its app (src/app.ts).
  return [
    { path: '/.well-known/openid-configuration', kind: 'discovery' },
    { path: '/.well-known/oauth-authorization-server', kind: 'discovery' },
    { path: provider.pathFor('jwks', { mountPath: '' }), kind: 'jwks' },
  ];
}

/**
 * Asks the provider itself for its discovery document and JWKS, over HTTP on a throwaway
 * loopback port, with the issuer's host and scheme, exactly as a relying party would (without
 * an Origin header). Taking the provider's own bytes, not a copy of its logic, keeps the
 * replayed answers identical when oidc-provider or the configuration changes.
 */
export async function snapshotMetadata(
  provider: Provider,
  issuer: string,
  maxAge: { discovery: number; jwks: number },
): Promise<MetadataSnapshot> {
  const { host, protocol, origin } = new URL(issuer);
  // Served under the issuer's path as the app serves it (src/app.ts), so the documents name
  // the prefixed endpoints; kept by the path under the prefix, which is what the app matches.
  const basePath = issuerBasePath(issuer);
  const app = new Koa({ proxy: provider.proxy, maxIpsCount: provider.maxIpsCount });
  app.use(mount(basePath || '/', provider));
  // Forwarded headers count only when the provider trusts proxies (http.trustedProxyHops > 0),
  // as for a real request; without, the Host header alone gives the issuer's origin.
  const headers = { host, 'x-forwarded-host': host, 'x-forwarded-proto': protocol.slice(0, -1) };
  const server = createServer(app.callback());
  try {
    const port = await listenOnLoopback(server);
    const byPath = new Map<string, PrecomputedResponse>();
    for (const { path, kind } of metadataPaths(provider)) {
      const res = await get(port, `${basePath}${path}`, headers);
      if (res.status !== 200) throw new Error(`oidc-provider answered ${path} with ${res.status}`);
      byPath.set(path, {
        body: res.body,
        etag: strongEtag(res.body),
        headers: replayable(res.headers),
        maxAgeSeconds: maxAge[kind],
        cors: 'access-control-allow-origin' in res.headers,
      });
    }
    return { origin, byPath };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
