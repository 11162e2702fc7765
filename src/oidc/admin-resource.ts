/**
 * The admin API as an OAuth resource server of Gatehouse itself (RFC 8707). Its access
 * tokens are opaque, so an admin token is revocable and checked against the database on
 * every call, and short-lived. Its scopes are clients/client-metadata.ts ADMIN_SCOPES.
 */
export const ADMIN_API_PATH = '/admin/api/v1';
export const ADMIN_TOKEN_TTL_SECONDS = 600;

/** The resource indicator (and audience) of the admin API. */
export const adminApiIndicator = (issuer: string) => `${issuer}/admin/api`;
