import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { VISIBLE_ROLES } from '../clients/client-metadata.js';

/** The scope that asks for the user's role names in the `roles` claim. */
const ROLES_SCOPE = 'roles';

/** A user's role names (src/storage/roles.repository.ts rolesOf). */
export type RolesOf = (accountId: string) => Promise<string[]>;

/** The roles a client may see: all, or only those in its `gatehouse_visible_roles` when set. */
export function visibleRoles(roles: string[], metadata: Record<string, unknown> | undefined): string[] {
  const allowed = metadata?.[VISIBLE_ROLES];
  if (!Array.isArray(allowed) || allowed.length === 0) return roles;
  return roles.filter((role) => allowed.includes(role));
}

export function hasRolesScope(scope: string | undefined): boolean {
  return (scope ?? '').split(' ').includes(ROLES_SCOPE);
}

/**
 * extraTokenClaims: a JWT access token for a resource (RFC 9068 §2.2.3.1 lets it carry
 * `roles`) gets the user's visible roles when the grant holds the `roles` scope. The
 * resource's token carries only the resource's scopes, so the grant's OpenID scope is where
 * the consent to `roles` is found. Opaque tokens are left alone: they go to userinfo, which
 * answers with the same claim.
 */
export function createExtraTokenClaims(rolesOf: RolesOf): NonNullable<Configuration['extraTokenClaims']> {
  return async function extraTokenClaims(ctx: KoaContextWithOIDC, token) {
    if (token.kind !== 'AccessToken' || !token.resourceServer || !token.accountId || !token.grantId) return undefined;
    const grant = ctx.oidc.entities.Grant ?? (await ctx.oidc.provider.Grant.find(token.grantId));
    if (!grant || !hasRolesScope(grant.getOIDCScope())) return undefined;
    const client =
      ctx.oidc.client ?? (token.clientId ? await ctx.oidc.provider.Client.find(token.clientId) : undefined);
    return { roles: visibleRoles(await rolesOf(token.accountId), client?.metadata()) };
  };
}
