import { errors, type ClientMetadata, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/schema.js';
import { checkRedirectUri } from '../clients/client-registry.js';
import { InvalidInputError } from '../errors/domain-errors.js';

export { REGISTRATION_POLICY } from './initial-access-tokens.js';

export type RegistrationPolicyConfig = Config['registration']['policy'];

/** Gatehouse's own metadata fields (first-party, mfa, visible roles) all start with this. */
const OWN_FIELD_PREFIX = 'gatehouse_';
const MAX_NAME_LENGTH = 200;

// RFC 7591 §3.2.2: invalid_client_metadata, with a description naming the field.
const invalidMetadata = (field: string, message: string) => new errors.InvalidClientMetadata(`${field}: ${message}`);

function invalidRedirectUri(description: string): errors.InvalidRedirectUri {
  // The class carries a fixed description meant for authorization requests; RFC 7591
  // §3.2.2 wants one that says which URI is wrong.
  const error = new errors.InvalidRedirectUri();
  error.error_description = description;
  return error;
}

function stringList(field: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw invalidMetadata(field, 'must be an array of strings');
  }
  return value;
}

function onlyAllowed(field: string, values: readonly string[], allowed: readonly string[]): void {
  const refused = values.find((v) => !allowed.includes(v));
  if (refused !== undefined)
    throw invalidMetadata(field, `"${refused}" is not allowed (allowed: ${allowed.join(', ')})`);
}

/**
 * checkRedirectUri's rules (https, loopback http, no fragment, no wildcard) as an RFC 7591
 * error: the registration endpoint's one mapping of the domain's refusal, `field: message`.
 */
function checkUris(field: string, uris: string[], toError: (message: string) => Error): void {
  for (const uri of uris) {
    try {
      checkRedirectUri(field, uri);
    } catch (error) {
      if (error instanceof InvalidInputError) throw toError(`${error.field}: ${error.message}`);
      throw error;
    }
  }
}

/**
 * Holds a registration (RFC 7591) or an update (RFC 7592 §2.2) to the configured policy,
 * before oidc-provider validates the metadata itself. Runs on the raw properties: a field
 * left out here gets oidc-provider's client defaults (clientDefaults in options.ts).
 */
export function createRegistrationPolicy(policy: RegistrationPolicyConfig) {
  return function gatehouseRegistrationPolicy(_ctx: KoaContextWithOIDC, metadata: ClientMetadata): void {
    // A client must not grant itself first-party status (no consent page), a second-factor
    // exemption or role visibility: those are an administrator's decisions.
    for (const key of Object.keys(metadata)) {
      if (key.startsWith(OWN_FIELD_PREFIX)) delete metadata[key];
    }

    const name = metadata.client_name;
    if (name !== undefined && (typeof name !== 'string' || name.trim().length === 0 || name.length > MAX_NAME_LENGTH)) {
      throw invalidMetadata('client_name', `must be 1 to ${MAX_NAME_LENGTH} characters`);
    }

    onlyAllowed(
      'grant_types',
      stringList('grant_types', metadata.grant_types ?? ['authorization_code']),
      policy.grantTypes,
    );

    // RFC 7591 §2: the server may register a default scope when none is asked for.
    if (metadata.scope === undefined) metadata.scope = policy.scopes.join(' ');
    if (typeof metadata.scope !== 'string') throw invalidMetadata('scope', 'must be a space-separated string');
    onlyAllowed('scope', metadata.scope.split(' ').filter(Boolean), policy.scopes);

    const authMethod = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
    if (typeof authMethod !== 'string') throw invalidMetadata('token_endpoint_auth_method', 'must be a string');
    onlyAllowed('token_endpoint_auth_method', [authMethod], policy.authMethods);

    const redirectUris = stringList('redirect_uris', metadata.redirect_uris);
    if (redirectUris.length > policy.maxRedirectUris) {
      throw invalidRedirectUri(`redirect_uris: at most ${policy.maxRedirectUris} are allowed`);
    }
    checkUris('redirect_uris', redirectUris, invalidRedirectUri);
    checkUris(
      'post_logout_redirect_uris',
      stringList('post_logout_redirect_uris', metadata.post_logout_redirect_uris),
      (message) => new errors.InvalidClientMetadata(message),
    );
    // OIDC Back-Channel Logout 1.0 §2.2, with the same https rule as redirect URIs: a logout
    // token sent in clear text could be replayed to sign a user out.
    if (metadata.backchannel_logout_uri !== undefined) {
      if (typeof metadata.backchannel_logout_uri !== 'string')
        throw invalidMetadata('backchannel_logout_uri', 'must be a URL');
      checkUris(
        'backchannel_logout_uri',
        [metadata.backchannel_logout_uri],
        (message) => new errors.InvalidClientMetadata(message),
      );
    }
    // What the consent page shows (issue 21): the rules an admin's client has (clients/client-links.ts).
    for (const field of ['logo_uri', 'policy_uri', 'tos_uri'] as const) {
      if (metadata[field] === undefined) continue;
      if (typeof metadata[field] !== 'string') throw invalidMetadata(field, 'must be a URL');
      checkUris(field, [metadata[field]], (message) => new errors.InvalidClientMetadata(message));
    }
    // oidc-provider fetches jwks_uri only from public https addresses (SSRF protection);
    // refusing anything else here beats failing at every sign-in.
    if (metadata.jwks_uri !== undefined) {
      if (typeof metadata.jwks_uri !== 'string' || !metadata.jwks_uri.startsWith('https://')) {
        throw invalidMetadata('jwks_uri', 'must be an https URL');
      }
      checkUris('jwks_uri', [metadata.jwks_uri], (message) => new errors.InvalidClientMetadata(message));
    }
  };
}
