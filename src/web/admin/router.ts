import Router from '@koa/router';
import { noStore } from '../../http/security-headers.js';
import { addSelfSignInRoutes } from '../../http/self-sign-in.js';
import { requireSameOrigin } from '../../security/csrf.js';
import { requestOrigin } from '../../http/request-origin.js';
import type { ConsoleDeps, WithConsoleContext } from './context.js';
import { createConsoleSessions } from './session.js';
import { createShowPage, type ConsoleRouteTools } from './pages.js';
import { addDashboardRoutes } from './dashboard.routes.js';
import { addClientRoutes } from './clients.routes.js';
import { addIntegrationRoutes } from './integration.routes.js';
import { addUserRoutes } from './users.routes.js';
import { addUserAccessRoutes } from './user-access.routes.js';
import { addRoleRoutes } from './roles.routes.js';
import { addAuditRoutes } from './audit.routes.js';
import { addKeyRoutes } from './keys.routes.js';
import { addConnectionRoutes } from './connections.routes.js';
import { addResourceRoutes } from './resources.routes.js';

/**
 * /admin: the admin console, server-rendered and usable without JavaScript. Admins sign in
 * through Gatehouse itself (client gatehouse-admin); every request checks the admin role;
 * every change is a CSRF-checked form POST made through the admin services (which audit it)
 * and answered with 303, or with the form again showing what the service refused. Nothing
 * is cached. /admin/api is not matched here: no route has a parameter at its first level.
 */
export function createAdminConsoleRouter(deps: ConsoleDeps): Router {
  const router = new Router({ prefix: '/admin' });
  const sessions = createConsoleSessions(deps);
  const tools: ConsoleRouteTools = {
    deps,
    show: createShowPage(deps),
    view: [sessions.requireAdmin],
    change: (schema) => sessions.form(schema, sessions.requireAdmin),
  };

  router.use(noStore, requireSameOrigin(new URL(deps.config.issuer).origin));
  // One click, no second question: the form is a same-origin CSRF-checked POST (issue 15, item 13).
  addSelfSignInRoutes(router, sessions.signIn, tools.change(), {
    endProviderSession: async (ctx, signedOutPath) => {
      const { userId, sessionUid } = (ctx as WithConsoleContext).state.console;
      await deps.userSessions.endOne(userId, sessionUid, requestOrigin(ctx), 'logout');
      return deps.upstreamSignOut.signOutUrl(sessionUid, signedOutPath);
    },
  });
  addDashboardRoutes(router, tools);
  addClientRoutes(router, tools);
  addIntegrationRoutes(router, tools);
  addUserRoutes(router, tools);
  addUserAccessRoutes(router, tools);
  addRoleRoutes(router, tools);
  addResourceRoutes(router, tools);
  addAuditRoutes(router, tools);
  addKeyRoutes(router, tools);
  addConnectionRoutes(router, tools);

  return router;
}
