/** The Koa application settings that decide which address and origin a request comes from. */
export interface ProxyTrust {
  /** Koa reads X-Forwarded-For, -Proto and -Host only when this is true. */
  proxy: boolean;
  /** Koa keeps only the last this-many X-Forwarded-For entries (0: all of them). */
  maxIpsCount: number;
}

/**
 * Every proxy appends the address it was reached from to X-Forwarded-For, and everything left
 * of what the outermost trusted proxy appended was written by the client. Koa 3
 * (lib/request.js `ips`, `ip`) keeps the last `maxIpsCount` entries and takes the first of
 * those as `ctx.ip`: with `maxIpsCount` = hops that is the right-most address no trusted proxy
 * added, i.e. the client as the outermost proxy saw it. With fewer entries than hops, Koa takes
 * the left-most present (added by a trusted proxy when a request skipped an outer one); with
 * none, the socket's address. Left at `maxIpsCount: 0` Koa would take the left-most entry of the
 * whole list, which the client writes (issue 14, finding 3).
 *
 * Set on Gatehouse's app and on oidc-provider's (a Koa app too), so that every `ctx.ip`,
 * `ctx.protocol` and `ctx.host` agrees whichever app built the context.
 */
export function proxyTrust(trustedProxyHops: number): ProxyTrust {
  return { proxy: trustedProxyHops > 0, maxIpsCount: trustedProxyHops };
}
