import type Router from '@koa/router';
import type { WithConsoleContext } from './context.js';
import { encodeCursor } from './pages.js';
import type { ConsoleRouteTools } from './pages.js';
import { auditFilterForm, auditQueryOf } from './audit-filter.js';
import { describeEvents } from './audit-view.js';

const PAGE_SIZE = 50;

/** GET /admin/audit: the audit log, newest first, filtered by a GET form (so a view is a link) and paged by cursor. */
export function addAuditRoutes(router: Router, { deps, show, view }: ConsoleRouteTools): void {
  router.get('/audit', ...view, async (ctx: WithConsoleContext) => {
    const form = auditFilterForm(ctx.query);
    const { query, errors } = await auditQueryOf(form, ctx.query.before, PAGE_SIZE, deps.storage.users);
    const failed = Object.keys(errors).length > 0;
    const events = failed ? [] : await deps.admin.audit.query(query);
    const last = events[events.length - 1];
    const older =
      events.length === PAGE_SIZE && last
        ? `/admin/audit?${new URLSearchParams({ ...form, before: encodeCursor(last) }).toString()}`
        : null;
    await show(
      ctx,
      'audit',
      {
        title: 'Audit log',
        form,
        events: await describeEvents(events, deps.storage),
        errors,
        older,
        paged: query.before !== undefined,
      },
      failed ? 400 : 200,
    );
  });
}
