import type { Context } from 'koa';

/** Set on the context by @koa/router when one of our routes matched (the declared path, with :params). */
interface RoutedContext {
  _matchedRoute?: unknown;
  oidc?: { route?: unknown };
}

export interface RouteOf {
  /** A label of bounded cardinality: a declared path template, `oidc:<name>`, or `other`. */
  route: string;
  /** True when `route` is one of our templates (its concrete path may carry ids). */
  templated: boolean;
}

/**
 * The route a request took, for metric labels and logs: never the raw path, which carries
 * ids (and would give a label per request). oidc-provider names its routes (ctx.oidc.route:
 * token, authorization, userinfo, …); anything else — static assets, unknown paths — is `other`.
 */
export function routeOf(ctx: Context): RouteOf {
  const routed = ctx as Context & RoutedContext;
  if (typeof routed._matchedRoute === 'string') return { route: routed._matchedRoute, templated: true };
  const name = routed.oidc?.route;
  if (typeof name === 'string') return { route: `oidc:${name}`, templated: false };
  return { route: 'other', templated: false };
}
