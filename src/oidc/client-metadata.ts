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
