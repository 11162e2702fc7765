import { InvalidInputError } from '../errors/domain-errors.js';
import { OIDC_SCOPES } from '../config/oidc-scopes.js';
import { isAdminScope } from '../clients/client-metadata.js';
import type { ApiResourceRow } from '../storage/permissions.repository.js';

/**
 * A permission travels in `scope` (RFC 6749 §3.3 scope-token: printable ASCII without space,
 * `"` or `\`), so its name is one; it must not be an OpenID or admin scope, which mean
 * something else to the provider. `orders:read`, `read:orders` and `orders.read` all fit.
 */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/;

export function checkPermissionName(name: string): string {
  if (!SCOPE_TOKEN.test(name))
    throw new InvalidInputError('name', 'must be a scope token: 1 to 100 characters, no spaces, quotes or backslashes');
  if ((OIDC_SCOPES as readonly string[]).includes(name) || isAdminScope(name))
    throw new InvalidInputError('name', `"${name}" is an OpenID or admin scope`);
  return name;
}

/** RFC 8707 §2: an absolute URI without a fragment; https, like the resources in config. */
export function checkIndicator(field: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInputError(field, 'must be an absolute https URL');
  }
  if (url.protocol !== 'https:') throw new InvalidInputError(field, 'must be an absolute https URL');
  if (value.includes('#')) throw new InvalidInputError(field, 'must not contain a fragment');
  if (value.length > 2000) throw new InvalidInputError(field, 'must be at most 2000 characters');
  return value;
}

export function checkResourceName(name: string): string {
  const value = name.trim();
  if (value.length === 0 || value.length > 200) throw new InvalidInputError('name', 'must be 1 to 200 characters');
  return value;
}

/** Seconds a resource's access tokens live: at least a minute, at most a day. */
export function checkTokenTtl(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 60 || seconds > 86_400)
    throw new InvalidInputError('access_token_ttl', 'must be a whole number of seconds from 60 to 86400');
  return seconds;
}

export function checkPermissionDescription(description: string | null | undefined): string | null {
  const value = description?.trim() || null;
  if (value && value.length > 500) throw new InvalidInputError('description', 'must be at most 500 characters');
  return value;
}

/** RFC 8693 §3: the subject token types Gatehouse accepts (its own access tokens only). */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const SUBJECT_TOKEN_TYPES = [ACCESS_TOKEN_TYPE] as const;

/** A resource's settings under the admin API's field names, which the CLI's JSON output shares. */
export const resourceSettings = (r: ApiResourceRow) => ({
  id: r.id,
  indicator: r.indicator,
  name: r.name,
  audience: r.audience,
  access_token_ttl: r.accessTokenTtl,
  permissions_claim: r.permissionsClaim,
});
