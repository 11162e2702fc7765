import type Router from '@koa/router';
import type { WithConsoleContext } from './context.js';
import { redirectDone, type ConsoleRouteTools } from './pages.js';

/** Signing keys: what JWKS publishes, and rotation. */
export function addKeyRoutes(router: Router, { deps, show, view, change }: ConsoleRouteTools): void {
  router.get('/keys', ...view, async (ctx: WithConsoleContext) => {
    await show(ctx, 'keys', { title: 'Signing keys', keys: await deps.admin.keys.list() });
  });

  router.post('/keys/rotate', ...change(), async (ctx: WithConsoleContext) => {
    await deps.admin.keys.rotate(ctx.state.console.actor);
    redirectDone(ctx, '/admin/keys', 'keys-rotated');
  });
}
