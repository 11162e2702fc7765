/**
 * Settings that were replaced: read once at boot, mapped onto their successors with a warning,
 * and removed from the tree before the schema sees it (docs/decisions.md, "Trusted proxies").
 */

import { isTree, type Tree } from './tree.js';

/**
 * `http.trustProxy` (env TRUST_PROXY) trusted X-Forwarded-For as a whole, so that its left-most,
 * client-written entry was the client address. `http.trustedProxyHops` replaces it: `true`
 * meant one proxy in front (what the Helm chart and the docs set), so it reads as 1, `false`
 * as 0. Set together with `trustedProxyHops` (by a file, TRUSTED_PROXY_HOPS or an override),
 * the two must agree on whether there is a proxy at all; the hop count then comes from
 * `trustedProxyHops`.
 *
 * @param tree every layer merged; `http.trustProxy` is removed from it
 * @param upperLayers the layers above config/default.yaml, which alone can set trustedProxyHops on purpose
 */
export function replaceTrustProxy(tree: Tree, upperLayers: Tree[], problems: string[], warn: (message: string) => void): void {
  const http = tree.http;
  if (!isTree(http) || !('trustProxy' in http)) return;
  const { trustProxy, ...rest } = http;
  tree.http = rest;
  if (typeof trustProxy !== 'boolean') {
    problems.push('http.trustProxy: must be true or false (deprecated: set http.trustedProxyHops instead)');
    return;
  }
  const hopsSet = upperLayers.some((layer) => isTree(layer.http) && layer.http.trustedProxyHops !== undefined);
  const hops = rest.trustedProxyHops;
  if (!hopsSet) {
    const mapped = trustProxy ? 1 : 0;
    rest.trustedProxyHops = mapped;
    warn(`TRUST_PROXY (http.trustProxy) is deprecated and read as TRUSTED_PROXY_HOPS=${mapped}: set TRUSTED_PROXY_HOPS to the number of proxies in front that append to X-Forwarded-For, and remove TRUST_PROXY (docs/operations.md)`);
    return;
  }
  if (typeof hops !== 'number') return; // the schema reports the bad hop count
  if (trustProxy !== hops > 0) {
    problems.push(`http.trustProxy: TRUST_PROXY=${String(trustProxy)} contradicts TRUSTED_PROXY_HOPS=${hops} (http.trustedProxyHops); remove TRUST_PROXY, which TRUSTED_PROXY_HOPS replaces`);
    return;
  }
  warn(`TRUST_PROXY (http.trustProxy) is deprecated and ignored: TRUSTED_PROXY_HOPS=${hops} applies; remove TRUST_PROXY`);
}
