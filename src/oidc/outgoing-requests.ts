import type { Configuration } from 'oidc-provider';
import { isLoopbackHost } from '../config/loopback.js';

type ProviderFetch = NonNullable<Configuration['fetch']>;

/**
 * oidc-provider's outgoing requests (back-channel logout, jwks_uri, sector_identifier_uri).
 * The library refuses every special-use address, loopback included (its SSRF protection,
 * lib/helpers/fetch_request.js). That stays so for a real deployment; an issuer that is
 * itself on loopback (a developer's machine, the tests) may reach clients on loopback too,
 * as the http-on-loopback rule for client URLs already allows (docs/sessions.md).
 */
export function providerFetch(issuer: string): ProviderFetch {
  const localIssuer = isLoopbackHost(new URL(issuer).hostname);
  return (url, options) => {
    if (localIssuer && isLoopbackHost(new URL(url).hostname)) {
      const { dispatcher: _ssrfGuard, ...rest } = options as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, rest);
    }
    return globalThis.fetch(url, options);
  };
}
