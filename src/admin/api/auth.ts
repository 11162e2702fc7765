import type { Context, Next } from 'koa';
import type { ProviderHost } from '../../oidc/provider.js';
import type { RolesRepository } from '../../storage/roles.repository.js';
import type { UsersRepository } from '../../storage/users.repository.js';
import { adminApiIndicator } from '../../oidc/admin-resource.js';
import type { AdminScope } from '../../clients/client-metadata.js';
import { ADMIN_CONSOLE_CLIENT_ID } from '../../clients/built-in-client.js';
import { AppError } from '../../http/errors.js';
import { requestOrigin } from '../../http/request-origin.js';
import { ADMIN_ROLE } from '../../roles/roles.service.js';
import type { AdminActor } from '../../security/admin-actor.js';

export interface AdminCaller {
  actor: AdminActor;
  scopes: Set<AdminScope>;
}

export type WithAdminContext = Context & { state: { admin?: AdminCaller } };

// RFC 6750 §3: the challenge names the error so clients know whether to get a new token.
function unauthorized(ctx: Context, description: string): never {
  ctx.set(
    'WWW-Authenticate',
    `Bearer realm="gatehouse-admin", error="invalid_token", error_description="${description}"`,
  );
  throw new AppError('invalid_token', 401, description);
}

/** `Authorization: Bearer <token>` only (RFC 6750 §2.1): no tokens in query strings, where logs keep them. */
function bearerOf(ctx: Context): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(ctx.get('authorization'));
  return match?.[1];
}

/**
 * Authenticates an admin API call with an access token Gatehouse issued for the admin API
 * resource: a machine client's client_credentials token, or an admin user's token from the
 * console's client. The user's admin role and account are checked on every call, so taking
 * the role away or disabling the user takes effect at once.
 */
export function createAdminAuthenticator(deps: {
  host: ProviderHost;
  issuer: string;
  roles: RolesRepository;
  users: UsersRepository;
}) {
  const audience = adminApiIndicator(deps.issuer);

  async function authenticate(ctx: Context): Promise<AdminCaller> {
    const value = bearerOf(ctx);
    if (!value) {
      ctx.set('WWW-Authenticate', 'Bearer realm="gatehouse-admin"');
      throw new AppError('invalid_token', 401, 'an admin API access token is required (Authorization: Bearer)');
    }
    const provider = deps.host.current;
    const token = (await provider.ClientCredentials.find(value)) ?? (await provider.AccessToken.find(value));
    if (!token || token.isExpired) unauthorized(ctx, 'the access token is invalid, expired or revoked');
    const aud = (token as { aud?: unknown }).aud;
    if (aud !== audience && !(Array.isArray(aud) && aud.includes(audience)))
      unauthorized(ctx, 'the access token is not for the admin API');
    const scopes = new Set(
      (token.scope ?? '').split(' ').filter((s): s is AdminScope => s === 'admin:read' || s === 'admin:write'),
    );
    const accountId = (token as { accountId?: string }).accountId;
    if (accountId) {
      if (token.clientId !== ADMIN_CONSOLE_CLIENT_ID)
        unauthorized(ctx, 'user tokens for the admin API come only from the admin console client');
      const user = await deps.users.findById(accountId);
      if (!user || user.disabledAt) unauthorized(ctx, 'the account behind this token is not active');
      if (!(await deps.roles.rolesOf(accountId)).includes(ADMIN_ROLE)) {
        throw new AppError('insufficient_scope', 403, 'this account does not hold the admin role');
      }
    }
    return { actor: { userId: accountId ?? null, clientId: token.clientId ?? '', origin: requestOrigin(ctx) }, scopes };
  }

  /** admin:write includes admin:read. */
  return function requireAdminScope(scope: AdminScope) {
    return async function requireAdminScopeMiddleware(ctx: WithAdminContext, next: Next): Promise<void> {
      const caller = await authenticate(ctx);
      const allowed = caller.scopes.has(scope) || (scope === 'admin:read' && caller.scopes.has('admin:write'));
      if (!allowed) {
        ctx.set('WWW-Authenticate', `Bearer realm="gatehouse-admin", error="insufficient_scope", scope="${scope}"`);
        throw new AppError('insufficient_scope', 403, `this operation needs the ${scope} scope`);
      }
      ctx.state.admin = caller;
      await next();
    };
  };
}
