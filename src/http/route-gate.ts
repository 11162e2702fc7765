import type Router from '@koa/router';
import type { DefaultState, Next, ParameterizedContext } from 'koa';

/**
 * A step of the routers' chain. Koa's own Middleware type returns `any`; these return unknown,
 * which the routers' middleware (and any Koa middleware) satisfies.
 */
type Stage<C> = (ctx: ParameterizedContext<DefaultState, C>, next: Next) => unknown;

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
export function routersUnderTheirPaths<C>(routers: readonly Router[], chain: ReadonlyArray<Stage<C>>) {
  const starts = [...new Set(routers.flatMap((router) => router.stack.map((layer) => literalStart(layer.path))))];
  // '/interaction/' is enough once '/interaction' is there; '' (a pattern from the root) keeps all.
  const prefixes = starts.filter((start) => !starts.some((other) => other !== start && start.startsWith(other)));
  const run = async (ctx: ParameterizedContext<DefaultState, C>, next: Next, i: number): Promise<void> => {
    const stage = chain[i];
    if (stage) await stage(ctx, () => run(ctx, next, i + 1));
    else await next();
  };
  return async function routersUnderTheirPathsMiddleware(
    ctx: ParameterizedContext<DefaultState, C>,
    next: Next,
  ): Promise<void> {
    const path = ctx.path.toLowerCase();
    await (prefixes.some((prefix) => path.startsWith(prefix)) ? run(ctx, next, 0) : next());
  };
}
