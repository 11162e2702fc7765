import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import { ADMIN_API_PATH } from '../../oidc/admin-resource.js';
import type { ProviderHost } from '../../oidc/provider.js';
import type { Storage } from '../../storage/storage.js';
import { noStore } from '../../http/security-headers.js';
import { AppError } from '../../http/errors.js';
import type { AdminServices } from '../services.js';
import { createAdminAuthenticator, type WithAdminContext } from './auth.js';
import { parseInput, type AnyAdminRoute } from './route.js';
import { buildOpenApiDocument } from './openapi.js';
import { clientRoutes } from './clients.routes.js';
import { userRoutes } from './users.routes.js';
import { roleRoutes } from './roles.routes.js';
import { sessionRoutes } from './sessions.routes.js';
import { keyRoutes } from './keys.routes.js';
import { auditRoutes } from './audit.routes.js';
import { activityRoutes } from './activity.routes.js';
import { initialAccessTokenRoutes } from './initial-access-tokens.routes.js';
import { connectionRoutes } from './connections.routes.js';
import { subjectRoutes } from './subjects.routes.js';
import { resourceRoutes } from './resources.routes.js';
import { tokenExchangeRoutes } from './token-exchange.routes.js';
import { attributeRoutes } from './attributes.routes.js';

export interface AdminApiDeps {
  admin: AdminServices;
  host: ProviderHost;
  storage: Storage;
  issuer: string;
}

/** The document's version: the v1 contract; additions bump the minor number. */
const API_VERSION = '1.2.0';

function adminApiRoutes(deps: AdminApiDeps): AnyAdminRoute[] {
  const { admin } = deps;
  return [
    ...clientRoutes(admin),
    ...userRoutes(admin),
    ...roleRoutes(admin),
    ...sessionRoutes(admin),
    ...keyRoutes(admin),
    ...initialAccessTokenRoutes(admin),
    ...auditRoutes(admin),
    ...activityRoutes(admin),
    ...connectionRoutes(admin, deps.issuer),
    ...subjectRoutes(admin),
    ...resourceRoutes(admin),
    ...tokenExchangeRoutes(admin),
    ...attributeRoutes(admin),
  ];
}

const json = bodyParser({ enableTypes: ['json'], jsonLimit: '1mb', encoding: 'utf-8' });
// An import file of 100,000 users is some tens of megabytes.
const jsonLines = bodyParser({
  enableTypes: ['text'],
  textLimit: '64mb',
  encoding: 'utf-8',
  extendTypes: { text: ['application/x-ndjson', 'application/jsonl', 'application/jsonlines', 'text/plain'] },
});

/** A body must be what the route reads; anything else is 415 rather than a confusing field error. */
function checkContentType(ctx: Context, route: AnyAdminRoute): void {
  const hasBody = Number(ctx.get('content-length') || 0) > 0 || Boolean(ctx.get('transfer-encoding'));
  if (!hasBody) return;
  const ok = route.textBody
    ? ctx.is('application/x-ndjson', 'application/jsonl', 'application/jsonlines', 'text/plain')
    : ctx.is('application/json');
  if (!ok)
    throw new AppError(
      'unsupported_media_type',
      415,
      route.textBody ? 'send the file as application/x-ndjson' : 'send application/json',
    );
}

/** /admin/api/v1: bearer-token auth per route scope, input validated by each route's schemas, JSON out. */
export function createAdminApiRouter(deps: AdminApiDeps): Router {
  const routes = adminApiRoutes(deps);
  const requireScope = createAdminAuthenticator({
    host: deps.host,
    issuer: deps.issuer,
    roles: deps.storage.roles,
    users: deps.storage.users,
  });
  // Built on first request, not at boot (some 15 ms of schema conversion), then served as bytes.
  let document: string | undefined;
  const router = new Router({ prefix: ADMIN_API_PATH });

  // The document describes the API, not its data: public, like discovery.
  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    document ??= JSON.stringify(buildOpenApiDocument(routes, deps.issuer, API_VERSION));
    ctx.body = document;
  });

  for (const route of routes) {
    router[route.method](
      route.path,
      noStore,
      requireScope(route.scope),
      async (ctx: WithAdminContext, next) => {
        checkContentType(ctx, route);
        await (route.textBody ? jsonLines : json)(ctx, next);
      },
      async (ctx: WithAdminContext) => {
        const caller = ctx.state.admin;
        if (!caller) throw new AppError('invalid_token', 401, 'not authenticated');
        const result = await route.handler({
          params: parseInput(route.params, ctx.params, 'path'),
          query: parseInput(route.query, ctx.query, 'query'),
          body: route.textBody ? {} : parseInput(route.body, ctx.request.body, 'body'),
          actor: caller.actor,
          ctx,
        });
        ctx.status = route.status;
        if (result !== undefined) ctx.body = result;
      },
    );
  }
  return router;
}
