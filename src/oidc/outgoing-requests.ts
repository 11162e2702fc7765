import { request } from 'node:https';
import type { Configuration } from 'oidc-provider';
import { isLoopbackHost } from '../config/loopback.js';

type ProviderFetch = NonNullable<Configuration['fetch']>;

/** Statuses whose response has no body (the Response constructor refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * An https request to a loopback address with its certificate unverified: a development
 * machine cannot hold a publicly trusted certificate for 127.0.0.1, as for the sector document
 * (clients/sector-identifier.ts). Only what oidc-provider sends: a GET (jwks_uri) or a form POST.
 */
function unverifiedLoopbackFetch(url: URL, init: RequestInit): Promise<Response> {
  const body = init.body;
  if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof URLSearchParams))
    return Promise.reject(new TypeError('unsupported request body'));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: init.method ?? 'GET',
        headers: Object.fromEntries(new Headers(init.headers).entries()),
        rejectUnauthorized: false,
        signal: init.signal ?? undefined,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 502;
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers))
            for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value])
              headers.append(name, one);
          resolve(new Response(NO_BODY.has(status) ? null : Buffer.concat(chunks), { status, headers }));
        });
      },
    );
    req.on('error', reject);
    req.end(body === undefined || body === null ? undefined : String(body));
  });
}

/**
 * oidc-provider's outgoing requests (back-channel logout, jwks_uri, sector_identifier_uri).
 * The library refuses every special-use address, loopback included (its SSRF protection,
 * lib/helpers/fetch_request.js). That stays so for a real deployment; an issuer that is
 * itself on loopback (a developer's machine, the tests) may reach clients on loopback too,
 * as the http-on-loopback rule for client URLs already allows (docs/sessions.md), and over
 * https without a trusted certificate (a client's `jwks_uri`, which must be https).
 */
export function providerFetch(issuer: string): ProviderFetch {
  const localIssuer = isLoopbackHost(new URL(issuer).hostname);
  return (url, options) => {
    const target = new URL(url);
    if (localIssuer && isLoopbackHost(target.hostname)) {
      const { dispatcher: _ssrfGuard, ...rest } = options as RequestInit & { dispatcher?: unknown };
      return target.protocol === 'https:' ? unverifiedLoopbackFetch(target, rest) : globalThis.fetch(url, rest);
    }
    return globalThis.fetch(url, options);
  };
}
