import type { Client, Configuration, KoaContextWithOIDC, ResourceServer } from 'oidc-provider';
import type { ApiResourceRow, PermissionsRepository } from '../../storage/permissions.repository.js';
import { memoised, requestMemo } from '../request-memo.js';

/** JWT access tokens are signed with the same ES256 key as ID tokens and published at /jwks. */
const ACCESS_TOKEN_ALG = 'ES256';

/** What the provider reads of API resources and permissions (storage/permissions.repository.ts). */
export type PermissionLookup = Pick<
  PermissionsRepository,
  'findResourceByIndicator' | 'listPermissions' | 'userPermissionNames' | 'clientPermissionNames' | 'exchangePolicyOf'
>;

type ResourceServerInfo = ResourceServer;

/** The provider's ResourceServer object on a token (lib/helpers/resource_server.js): it knows its indicator. */
interface TokenResourceServer {
  identifier(): string;
}

/** The grant a token-exchange token records as `gty` (src/oidc/features/token-exchange.ts). */
export const TOKEN_EXCHANGE_GTY = 'token_exchange';

// A request asks for one resource several times (validation, then the token); one read each.
const resources = requestMemo<Promise<ApiResourceRow | undefined>>();

export function findResource(lookup: PermissionLookup, indicator: string): Promise<ApiResourceRow | undefined> {
  return memoised(resources, indicator, () => lookup.findResourceByIndicator(indicator));
}

/** Who the token endpoint is issuing for: the user of the grant, or the client itself. */
type TokenSubject = { kind: 'user'; accountId: string } | { kind: 'client'; clientId: string } | { kind: 'none' };

function tokenSubject(ctx: KoaContextWithOIDC, client: Client | undefined): TokenSubject | undefined {
  // Elsewhere (authorization, PAR, device authorization) the request is being validated and
  // consented: every permission of the resource may be asked for; the token decides.
  if (ctx.oidc.route !== 'token') return undefined;
  if (ctx.oidc.params?.grant_type === 'client_credentials' && client)
    return { kind: 'client', clientId: client.clientId };
  const accountId = ctx.oidc.entities.Grant?.accountId;
  // A token endpoint path without a grant to read roles from gets nothing rather than everything.
  return accountId ? { kind: 'user', accountId } : { kind: 'none' };
}

/** The permission names a subject holds on a resource, read at the moment a token is made. */
async function permissionsFor(
  lookup: PermissionLookup,
  resource: ApiResourceRow,
  subject: { accountId: string } | { clientId: string },
): Promise<string[]> {
  return 'accountId' in subject
    ? lookup.userPermissionNames(subject.accountId, resource.id)
    : lookup.clientPermissionNames(subject.clientId, resource.id);
}

/** The resource server's description for oidc-provider, with the scopes this token may carry. */
export function resourceServerInfo(resource: ApiResourceRow, scopes: readonly string[]): ResourceServerInfo {
  return {
    scope: scopes.join(' '),
    audience: resource.audience ?? resource.indicator,
    accessTokenTTL: resource.accessTokenTtl,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: ACCESS_TOKEN_ALG } },
  };
}

/**
 * getResourceServerInfo for the resources admins defined (RBAC, docs/roles.md). oidc-provider
 * gives a token the requested scopes that the grant holds AND that this returns
 * (lib/helpers/grant_authorization.js, client_credentials.js, refresh_token.js), so returning
 * the permissions the user's roles grant (or the machine client's own) makes the token carry
 * exactly "granted ∩ asked". Read at each token request: a role change shows in the next token,
 * refreshes included. Undefined: not one of these resources.
 */
export async function databaseResourceServer(
  lookup: PermissionLookup,
  ctx: KoaContextWithOIDC,
  indicator: string,
  client: Client | undefined,
): Promise<ResourceServerInfo | undefined> {
  const resource = await findResource(lookup, indicator);
  if (!resource) return undefined;
  const subject = tokenSubject(ctx, client);
  const scopes =
    subject === undefined
      ? (await lookup.listPermissions(resource.id)).map((p) => p.name)
      : subject.kind === 'none'
        ? []
        : await permissionsFor(lookup, resource, subject);
  return resourceServerInfo(resource, scopes);
}

/**
 * extraTokenClaims for these resources, around the roles claim (src/oidc/roles.ts): a resource
 * with `permissions_claim` gets its token's permissions as a `permissions` array too (what
 * Auth0's and Logto's APIs read), and a token made by exchange carries `act` (RFC 8693 §4.1).
 */
export function withPermissionClaims(
  lookup: PermissionLookup,
  inner: NonNullable<Configuration['extraTokenClaims']>,
  actorOf: (ctx: KoaContextWithOIDC) => Record<string, unknown> | undefined,
): NonNullable<Configuration['extraTokenClaims']> {
  return async function extraTokenClaims(ctx, token) {
    const base = await inner(ctx, token);
    if (token.kind !== 'AccessToken' && token.kind !== 'ClientCredentials') return base;
    const server = (token as { resourceServer?: TokenResourceServer }).resourceServer;
    const extra: Record<string, unknown> = { ...base };
    if (server) {
      const resource = await findResource(lookup, server.identifier());
      if (resource?.permissionsClaim) extra.permissions = (token.scope ?? '').split(' ').filter(Boolean);
    }
    if ((token as { gty?: string }).gty === TOKEN_EXCHANGE_GTY) {
      const act = actorOf(ctx);
      if (act) extra.act = act;
    }
    return Object.keys(extra).length > 0 ? extra : undefined;
  };
}
