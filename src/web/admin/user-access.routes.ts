import type Router from '@koa/router';
import { z } from 'zod';
import type { WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';
import type { WithConsoleContext } from './context.js';
import { param, submitForm } from './forms.js';
import { redirectDone, type ConsoleRouteTools } from './pages.js';
import { createUserPage, userPath } from './user-page.js';

const roleForm = z.object({ role: text() });
const sessionForm = z.object({ session: text() });
const grantForm = z.object({ grant: text() });

/**
 * What a user can reach: their roles (assign, remove), sessions (end one, sign out
 * everywhere) and grants (revoke). The role, session or grant is a form field, not a path
 * segment, so any name round-trips.
 */
export function addUserAccessRoutes(router: Router, tools: ConsoleRouteTools): void {
  const { deps, change } = tools;
  const { roles, sessions } = deps.admin;
  const showUser = createUserPage(tools);

  router.post('/users/:id/roles', ...change(roleForm), async (ctx: WithConsoleContext & WithForm<typeof roleForm>) => {
    const id = param(ctx, 'id');
    await submitForm(
      async () => {
        await roles.assign(id, ctx.state.form.role, ctx.state.console.actor);
        redirectDone(ctx, userPath(id), 'role-assigned');
      },
      (errors, status) => showUser(ctx, id, { errors: { role: Object.values(errors).join(' ') }, status }),
    );
  });

  router.post(
    '/users/:id/roles/remove',
    ...change(roleForm),
    async (ctx: WithConsoleContext & WithForm<typeof roleForm>) => {
      const id = param(ctx, 'id');
      await roles.unassign(id, ctx.state.form.role, ctx.state.console.actor);
      redirectDone(ctx, userPath(id), 'role-unassigned');
    },
  );

  router.post(
    '/users/:id/sessions/end',
    ...change(sessionForm),
    async (ctx: WithConsoleContext & WithForm<typeof sessionForm>) => {
      const id = param(ctx, 'id');
      await sessions.endSession(id, ctx.state.form.session, ctx.state.console.actor);
      redirectDone(ctx, userPath(id), 'session-ended');
    },
  );

  router.post('/users/:id/sessions/end-all', ...change(), async (ctx: WithConsoleContext) => {
    const id = param(ctx, 'id');
    await sessions.endAll(id, ctx.state.console.actor);
    redirectDone(ctx, userPath(id), 'sessions-ended');
  });

  router.post(
    '/users/:id/grants/revoke',
    ...change(grantForm),
    async (ctx: WithConsoleContext & WithForm<typeof grantForm>) => {
      const id = param(ctx, 'id');
      await sessions.revokeGrant(id, ctx.state.form.grant, ctx.state.console.actor);
      redirectDone(ctx, userPath(id), 'grant-revoked');
    },
  );
}
