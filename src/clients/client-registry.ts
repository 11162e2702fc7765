import type { ClientsRepository, NewClient } from '../storage/clients.repository.js';
import type { ClientRow } from '../storage/entities/client.entity.js';
import { generateClientSecret, hashClientSecret } from './client-secret.js';
import { newClientId } from './client-id.js';
import {
  ADMIN_SCOPES,
  ADMIN_SCOPES_FIELD,
  MAX_REFRESH_REUSE_GRACE_SECONDS,
  MFA_POLICY,
  REFRESH_REUSE_GRACE,
  VISIBLE_ROLES,
  refreshReuseGraceOf,
} from './client-metadata.js';
import { OIDC_SCOPES } from '../config/oidc-scopes.js';
import { ROLE_NAME } from '../roles/role-fields.js';
import { InvalidInputError } from '../errors/domain-errors.js';
import { checkRedirectUri } from './redirect-uri.js';
import { identityInputOf, identityMetadata, type ClientIdentityInput } from './client-identity.js';
import {
  DEVICE_CODE_GRANT,
  TOKEN_EXCHANGE_GRANT,
  flowInputOf,
  flowMetadata,
  type ClientFlowInput,
} from './client-flows.js';
import { codesInputOf, codesMetadata, type ClientCodesInput } from './client-codes.js';
import { linksInputOf, linksMetadata, type ClientLinksInput } from './client-links.js';

export { checkRedirectUri };

export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  DEVICE_CODE_GRANT,
  TOKEN_EXCHANGE_GRANT,
] as const;
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export const ID_TOKEN_ALGS = ['ES256', 'RS256'] as const;
export const SCOPES = OIDC_SCOPES;

/**
 * The identity and logout fields (pairwise subjects, front-channel logout, signed userinfo) are
 * client-identity.ts's; the flow fields (device flow, DPoP, PAR, FAPI) client-flows.ts's; the
 * switches of codes by email and SMS client-codes.ts's; the logo, policy and terms the consent
 * page shows client-links.ts's.
 */
export interface ClientInput extends ClientIdentityInput, ClientFlowInput, ClientCodesInput, ClientLinksInput {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  public: boolean;
  firstParty: boolean;
  grantTypes: string[];
  scope: string;
  authMethod?: string;
  idTokenAlg?: string;
  jwksUri?: string;
  /** The client's public keys inline (a JWK Set), the alternative to jwksUri. */
  jwks?: unknown;
  /** 'required': every sign-in to this client needs a second factor. */
  mfa?: string;
  /** The role names this client may see in the `roles` claim; empty or absent: all. */
  visibleRoles?: string[];
  /** Admin API scopes for a confidential client_credentials client (a machine admin). */
  adminScopes?: string[];
  /** Where the client receives logout tokens (OIDC Back-Channel Logout 1.0). */
  backchannelLogoutUri?: string;
  /** Whether its logout tokens must carry `sid` (the spec's default: no). */
  backchannelLogoutSessionRequired?: boolean;
  /** Seconds a just-rotated refresh token may be presented again while its successor is unused; 0 or absent: never. */
  refreshReuseGraceSeconds?: number;
}

export interface CreatedClient {
  client: ClientRow;
  /** Shown once; only its hash is stored. */
  clientSecret: string | null;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/** A JWK Set of public keys only; a private or symmetric member means a leaked key. */
function checkPublicJwks(value: unknown): { keys: Array<Record<string, unknown>> } {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (
    !Array.isArray(keys) ||
    keys.length === 0 ||
    keys.some((k) => typeof k !== 'object' || k === null || typeof (k as { kty?: unknown }).kty !== 'string')
  ) {
    throw new InvalidInputError('jwks', 'must be a JWK Set: {"keys": [ {"kty": ...}, ... ]}');
  }
  if (keys.some((k) => PRIVATE_MEMBERS.some((m) => m in (k as object)))) {
    throw new InvalidInputError('jwks', 'must hold public keys only');
  }
  return { keys: keys as Array<Record<string, unknown>> };
}

function oneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InvalidInputError(field, `"${value}" is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Turns validated input into oidc-provider client metadata. */
export function buildClientMetadata(input: ClientInput): { metadata: Record<string, unknown>; confidential: boolean } {
  if (!input.name.trim() || input.name.length > 200) throw new InvalidInputError('name', 'must be 1 to 200 characters');
  const grantTypes = [...new Set(input.grantTypes)].map((g) => oneOf('grant_types', g, GRANT_TYPES));
  if (grantTypes.length === 0) throw new InvalidInputError('grant_types', 'at least one grant type is needed');
  const authMethod = input.authMethod
    ? oneOf('token_endpoint_auth_method', input.authMethod, AUTH_METHODS)
    : input.public
      ? 'none'
      : 'client_secret_basic';
  const confidential = authMethod !== 'none';
  if (input.public && confidential)
    throw new InvalidInputError('token_endpoint_auth_method', 'a public client authenticates with "none"');
  if (!confidential && grantTypes.includes('client_credentials')) {
    throw new InvalidInputError('grant_types', 'client_credentials needs a confidential client');
  }
  // RFC 8693 §2.1: the exchanging client is the actor named in `act`, so it must prove who it is.
  if (!confidential && grantTypes.includes(TOKEN_EXCHANGE_GRANT)) {
    throw new InvalidInputError('grant_types', 'token exchange needs a confidential client');
  }
  if (authMethod === 'private_key_jwt' && !input.jwksUri && input.jwks === undefined) {
    throw new InvalidInputError('jwks_uri', "private_key_jwt needs the client's public keys: a JWK Set or its URL");
  }
  if (input.jwksUri && input.jwks !== undefined)
    throw new InvalidInputError('jwks', 'give the public keys or their URL, not both');
  // oidc-provider fetches jwks_uri only from public https addresses (SSRF protection).
  if (input.jwksUri && !input.jwksUri.startsWith('https://'))
    throw new InvalidInputError('jwks_uri', 'must be an https URL');
  if (input.jwksUri) checkRedirectUri('jwks_uri', input.jwksUri);
  const jwks = input.jwks === undefined ? undefined : checkPublicJwks(input.jwks);
  const usesRedirects = grantTypes.includes('authorization_code');
  if (usesRedirects && input.redirectUris.length === 0) {
    throw new InvalidInputError('redirect_uris', 'at least one is needed for authorization_code');
  }
  // A device (RFC 8628) refreshes like a browser client does.
  if (grantTypes.includes('refresh_token') && !usesRedirects && !grantTypes.includes(DEVICE_CODE_GRANT)) {
    throw new InvalidInputError(
      'grant_types',
      'refresh_token comes only with authorization_code or the device code grant',
    );
  }
  const redirectUris = input.redirectUris.map((u) => checkRedirectUri('redirect_uris', u));
  const postLogout = input.postLogoutRedirectUris.map((u) => checkRedirectUri('post_logout_redirect_uris', u));
  const scopes = input.scope
    .split(' ')
    .filter(Boolean)
    .map((s) => oneOf('scope', s, SCOPES));
  // oidc-provider refuses `scope: ""` as invalid_client_metadata on every request.
  if (scopes.length === 0) throw new InvalidInputError('scope', 'at least one scope is needed');
  const idTokenAlg = input.idTokenAlg
    ? oneOf('id_token_signed_response_alg', input.idTokenAlg, ID_TOKEN_ALGS)
    : 'ES256';
  const mfa = input.mfa ? oneOf('mfa', input.mfa, ['optional', 'required'] as const) : 'optional';
  const visibleRoles = [...new Set(input.visibleRoles ?? [])];
  const badRole = visibleRoles.find((r) => !ROLE_NAME.test(r));
  if (badRole !== undefined) throw new InvalidInputError('visible_roles', `"${badRole}" is not a role name`);
  // OIDC Back-Channel Logout 1.0 §2.2: an absolute URL without fragment; https unless loopback, like redirect URIs.
  const backchannelLogoutUri = input.backchannelLogoutUri
    ? checkRedirectUri('backchannel_logout_uri', input.backchannelLogoutUri)
    : undefined;
  if (input.backchannelLogoutSessionRequired && !backchannelLogoutUri) {
    throw new InvalidInputError('backchannel_logout_session_required', 'needs a back-channel logout URI');
  }
  const adminScopes = [...new Set(input.adminScopes ?? [])].map((s) => oneOf('admin_scopes', s, ADMIN_SCOPES));
  if (adminScopes.length > 0 && (!confidential || !grantTypes.includes('client_credentials'))) {
    throw new InvalidInputError(
      'admin_scopes',
      'only a confidential client with the client_credentials grant may hold admin scopes',
    );
  }
  const grace = input.refreshReuseGraceSeconds ?? 0;
  if (!Number.isInteger(grace) || grace < 0 || grace > MAX_REFRESH_REUSE_GRACE_SECONDS) {
    throw new InvalidInputError(
      'refresh_token_reuse_grace_seconds',
      `must be a whole number of seconds from 0 to ${MAX_REFRESH_REUSE_GRACE_SECONDS}`,
    );
  }
  if (grace > 0 && !grantTypes.includes('refresh_token'))
    throw new InvalidInputError('refresh_token_reuse_grace_seconds', 'needs the refresh_token grant');
  return {
    confidential,
    metadata: {
      redirect_uris: redirectUris,
      post_logout_redirect_uris: postLogout,
      grant_types: grantTypes,
      response_types: usesRedirects ? ['code'] : [],
      token_endpoint_auth_method: authMethod,
      id_token_signed_response_alg: idTokenAlg,
      scope: [...new Set(scopes)].join(' '),
      application_type: 'web',
      ...(input.jwksUri ? { jwks_uri: input.jwksUri } : {}),
      ...(jwks ? { jwks } : {}),
      [MFA_POLICY]: mfa,
      ...(visibleRoles.length > 0 ? { [VISIBLE_ROLES]: visibleRoles } : {}),
      ...(adminScopes.length > 0 ? { [ADMIN_SCOPES_FIELD]: adminScopes } : {}),
      ...(backchannelLogoutUri
        ? {
            backchannel_logout_uri: backchannelLogoutUri,
            backchannel_logout_session_required: input.backchannelLogoutSessionRequired === true,
          }
        : {}),
      ...(grace > 0 ? { [REFRESH_REUSE_GRACE]: grace } : {}),
      ...identityMetadata(input, redirectUris),
      ...flowMetadata(input, { authMethod, grantTypes }),
      ...codesMetadata(input),
      ...linksMetadata(input),
    },
  };
}

const stringList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** The input that would rebuild a stored client: the starting point of a partial update. */
export function clientInputOf(row: ClientRow): ClientInput {
  const m = row.metadata;
  const authMethod =
    typeof m.token_endpoint_auth_method === 'string' ? m.token_endpoint_auth_method : 'client_secret_basic';
  return {
    name: row.name,
    redirectUris: stringList(m.redirect_uris),
    postLogoutRedirectUris: stringList(m.post_logout_redirect_uris),
    public: authMethod === 'none',
    firstParty: row.firstParty,
    grantTypes: stringList(m.grant_types),
    scope: typeof m.scope === 'string' ? m.scope : 'openid',
    authMethod,
    idTokenAlg: typeof m.id_token_signed_response_alg === 'string' ? m.id_token_signed_response_alg : undefined,
    jwksUri: typeof m.jwks_uri === 'string' ? m.jwks_uri : undefined,
    jwks: m.jwks,
    mfa: typeof m[MFA_POLICY] === 'string' ? m[MFA_POLICY] : undefined,
    visibleRoles: stringList(m[VISIBLE_ROLES]),
    adminScopes: stringList(m[ADMIN_SCOPES_FIELD]),
    backchannelLogoutUri: typeof m.backchannel_logout_uri === 'string' ? m.backchannel_logout_uri : undefined,
    backchannelLogoutSessionRequired: m.backchannel_logout_session_required === true,
    refreshReuseGraceSeconds: refreshReuseGraceOf(m),
    ...identityInputOf(m),
    ...flowInputOf(m),
    ...codesInputOf(m),
    ...linksInputOf(m),
  };
}

/** Whether a client with this metadata authenticates with a client secret we issue. */
export function usesClientSecret(metadata: Record<string, unknown>): boolean {
  const method = metadata.token_endpoint_auth_method;
  return method === 'client_secret_basic' || method === 'client_secret_post';
}

/** A new client's row (random id, the secret's digest) and the secret itself, shown once. */
export function newClientRecord(input: ClientInput): { record: NewClient; clientSecret: string | null } {
  const { metadata, confidential } = buildClientMetadata(input);
  const clientSecret = confidential && usesClientSecret(metadata) ? generateClientSecret() : null;
  return {
    clientSecret,
    record: {
      id: newClientId(),
      name: input.name.trim(),
      secretHash: clientSecret ? hashClientSecret(clientSecret) : null,
      firstParty: input.firstParty,
      metadata,
    },
  };
}

/** Registers clients straight into storage, with no audit: test fixtures and boot-time set-up. */
export function createClientRegistry(clients: ClientsRepository) {
  return {
    async register(input: ClientInput): Promise<CreatedClient> {
      const { record, clientSecret } = newClientRecord(input);
      return { client: await clients.create(record), clientSecret };
    },
  };
}
