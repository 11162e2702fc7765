import type Router from '@koa/router';
import type { ConsoleRouteTools } from './pages.js';
import type { WithConsoleContext } from './context.js';
import { describeEvents } from './audit-view.js';

/** GET /admin: what needs attention (registrations waiting for approval) and the latest changes. */
export function addDashboardRoutes(router: Router, { deps, show, view }: ConsoleRouteTools): void {
  router.get('/', ...view, async (ctx: WithConsoleContext) => {
    const [pending, events] = await Promise.all([
      deps.admin.clients.page({ status: 'pending', limit: 100 }),
      deps.admin.audit.query({ limit: 10 }),
    ]);
    await show(ctx, 'dashboard', {
      title: 'Admin console',
      pendingCount: pending.items.length,
      pendingMore: pending.next !== null,
      events: await describeEvents(events, deps.storage),
    });
  });
}
