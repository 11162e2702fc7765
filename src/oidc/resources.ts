import { errors, type Client, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/schema.js';
import { ADMIN_TOKEN_TTL_SECONDS, adminApiIndicator } from './admin-resource.js';
import { ADMIN_CONSOLE_CLIENT_ID } from '../clients/built-in-client.js';
import { ADMIN_SCOPES, ADMIN_SCOPES_FIELD, isAdminScope } from '../clients/client-metadata.js';
import { databaseResourceServer, type PermissionLookup } from './features/permissions.js';

type ResourceIndicators = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;

/** JWT access tokens are signed with the same ES256 key as ID tokens and published at /jwks. */
const ACCESS_TOKEN_ALG = 'ES256';

/** The admin scopes a client may hold: all for the console (the API checks the user's role), else its own list. */
function adminScopesOf(client: Client | undefined): string[] {
  if (!client) return [];
  if (client.clientId === ADMIN_CONSOLE_CLIENT_ID) return [...ADMIN_SCOPES];
  const listed = client.metadata()[ADMIN_SCOPES_FIELD];
  return Array.isArray(listed) ? listed.filter((s): s is string => typeof s === 'string' && isAdminScope(s)) : [];
}

/**
 * Resource indicators (RFC 8707) from `resources` in config. A listed API gets a JWT access
 * token (RFC 9068, typ at+jwt) with its audience, scopes and TTL; so does a resource an admin
 * defined (features/permissions.ts), whose scopes are the permissions the token's subject
 * holds; anything else is invalid_target (RFC 8707 §2). The admin API is one more resource,
 * with opaque tokens.
 */
export function buildResourceIndicators(
  resources: Config['resources'],
  issuer: string,
  permissions: PermissionLookup,
): ResourceIndicators {
  const byIndicator = new Map(resources.map((r) => [r.indicator, r]));
  const adminIndicator = adminApiIndicator(issuer);
  return {
    enabled: true,
    /**
     * No resource was named: the token is the opaque one for userinfo. Several granted and none
     * named at the token endpoint: the client has to pick one (RFC 8707 §2.2), so they go back
     * as a list and oidc-provider answers invalid_target. A client_credentials request for
     * admin scopes means the admin API, so machine admins need not name it.
     */
    async defaultResource(ctx: KoaContextWithOIDC, _client, oneOf?: readonly string[]) {
      if (oneOf) return oneOf;
      const scopes = typeof ctx.oidc.params?.scope === 'string' ? ctx.oidc.params.scope.split(' ') : [];
      if (ctx.oidc.params?.grant_type === 'client_credentials' && scopes.some(isAdminScope)) return adminIndicator;
      return undefined;
    },
    /**
     * A resource named at authorization is not used at the token endpoint unless named again
     * (the library's default): an OpenID client keeps a userinfo access token, and asks for the
     * API's JWT with `resource=` on the code or refresh_token request.
     */
    async useGrantedResource() {
      return false;
    },
    async getResourceServerInfo(ctx: KoaContextWithOIDC, indicator: string, client?: Client) {
      if (indicator === adminIndicator) {
        const allowed = adminScopesOf(client);
        if (allowed.length === 0) throw new errors.InvalidTarget('this client may not use the admin API');
        return {
          scope: allowed.join(' '),
          audience: adminIndicator,
          accessTokenTTL: ADMIN_TOKEN_TTL_SECONDS,
          accessTokenFormat: 'opaque',
        };
      }
      const resource = byIndicator.get(indicator);
      if (!resource) {
        const defined = await databaseResourceServer(permissions, ctx, indicator, client);
        if (!defined) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
        return defined;
      }
      return {
        scope: resource.scopes.join(' '),
        audience: resource.audience ?? resource.indicator,
        accessTokenTTL: resource.accessTokenTtl,
        accessTokenFormat: resource.format,
        jwt: { sign: { alg: ACCESS_TOKEN_ALG } },
      };
    },
  };
}
