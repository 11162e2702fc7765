import type Router from '@koa/router';
import type { DefaultState, Middleware, Next, ParameterizedContext } from 'koa';

/** The literal start of a route path: every path the route matches begins with it (case aside). */
function literalStart(path: string | RegExp): string {
  if (typeof path !== 'string') return '';
  const pattern = path.search(/[:(*{?]/);
  return (pattern < 0 ? path : path.slice(0, pattern)).toLowerCase();
}

/**
 * Runs `chain` (the routers' middleware, in order) only for a request under a path one of
 * `routers`' routes can match; any other request goes straight on. Each router otherwise tests
 * every request against every route it has, a regular expression each, and the provider's
 * endpoints, the busiest by far, are none of theirs. The prefixes come from the routes
 * themselves, so a new route cannot be missed; routing is case-insensitive, as the routers are.
 */
export function routersUnderTheirPaths<C>(routers: readonly Router[], chain: ReadonlyArray<Middleware<DefaultState, C>>): Middleware<DefaultState, C> {
  const starts = [...new Set(routers.flatMap((router) => router.stack.map((layer) => literalStart(layer.path))))];
  // '/interaction/' is enough once '/interaction' is there; '' (a pattern from the root) keeps all.
  const prefixes = starts.filter((start) => !starts.some((other) => other !== start && start.startsWith(other)));
  const run = (ctx: ParameterizedContext<DefaultState, C>, next: Next, i: number): Promise<unknown> => {
    const middleware = chain[i];
    return middleware ? Promise.resolve(middleware(ctx, () => run(ctx, next, i + 1)) as unknown) : next();
  };
  return async function routersUnderTheirPathsMiddleware(ctx, next) {
    const path = ctx.path.toLowerCase();
    if (prefixes.some((prefix) => path.startsWith(prefix))) await run(ctx, next, 0);
    else await next();
  };
}
