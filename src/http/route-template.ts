import type { Context } from 'koa';

/**
 * Set on the context by both routers: @koa/router (ours) and oidc-provider's own
 * (lib/helpers/router.js) put the declared path, with its :params, in _matchedRoute.
 */
interface RoutedContext {
  _matchedRoute?: unknown;
}

export interface RouteOf {
  /** A label of bounded cardinality: a declared path template such as `/interaction/:uid/login`, or `other`. */
  route: string;
  /** True when `route` is a template (the concrete path may carry ids). */
  templated: boolean;
}

/**
 * The route a request took, for metric labels and logs: never the raw path, which carries
 * ids (and would give a label per request). Anything no router matched — static assets,
 * unknown paths — is `other`.
 */
export function routeOf(ctx: Context): RouteOf {
  const matched = (ctx as Context & RoutedContext)._matchedRoute;
  return typeof matched === 'string' ? { route: matched, templated: true } : { route: 'other', templated: false };
}
