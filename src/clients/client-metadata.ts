import type { ClientRow } from '../storage/entities/client.entity.js';

/** Gatehouse's own client metadata field: first-party clients skip the consent page. */
export const FIRST_PARTY = 'gatehouse_first_party';
/** Gatehouse's own client metadata field: 'required' makes every sign-in to it use a second factor. */
export const MFA_POLICY = 'gatehouse_mfa';
/**
 * Gatehouse's own client metadata field: the role names the client may see in the `roles`
 * claim. Absent or empty: all of the user's roles.
 */
export const VISIBLE_ROLES = 'gatehouse_visible_roles';

/**
 * Gatehouse's own client metadata field: the admin API scopes (admin:read, admin:write) this
 * confidential client may obtain with client_credentials. Absent: none.
 */
export const ADMIN_SCOPES_FIELD = 'gatehouse_admin_scopes';

/**
 * The scopes of the admin API (oidc/admin-resource.ts). Here, with the field that grants them:
 * client validation, the provider's resource glue and the admin API all read this one list,
 * and clients/ may not import oidc/.
 */
export const ADMIN_SCOPES = ['admin:read', 'admin:write'] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

export function isAdminScope(value: string): value is AdminScope {
  return (ADMIN_SCOPES as readonly string[]).includes(value);
}

/**
 * Gatehouse's own client metadata field: seconds during which a refresh token that was just
 * rotated may be presented again while its successor is unused (a lost response). Absent: 0.
 */
export const REFRESH_REUSE_GRACE = 'gatehouse_refresh_reuse_grace';
/** The longest grace an admin may set (Okta's and Auth0's reuse intervals are of this order). */
export const MAX_REFRESH_REUSE_GRACE_SECONDS = 60;

/** A stored client's refresh reuse grace in seconds (0: off). */
export function refreshReuseGraceOf(metadata: Record<string, unknown>): number {
  const value = metadata[REFRESH_REUSE_GRACE];
  return typeof value === 'number' && Number.isInteger(value) && value > 0
    ? Math.min(value, MAX_REFRESH_REUSE_GRACE_SECONDS)
    : 0;
}

/** oidc-provider client metadata from a stored client row. */
export function clientMetadata(row: ClientRow): Record<string, unknown> {
  return {
    ...row.metadata,
    client_id: row.id,
    client_name: row.name,
    ...(row.secretHash ? { client_secret: row.secretHash } : {}),
    [FIRST_PARTY]: row.firstParty,
  };
}
