import { InvalidInputError } from '../errors/domain-errors.js';

/** RFC 8628 §3.4: the grant type a device polls the token endpoint with. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** RFC 8693 §2.1: the grant type of token exchange (src/oidc/features/token-exchange.ts). */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/**
 * Gatehouse's own client metadata field: true makes the client a FAPI 2.0 Security Profile
 * client (docs/protocol.md, "FAPI 2.0"): pushed authorization requests, DPoP-bound tokens,
 * private_key_jwt, PKCE S256, short-lived codes and the provider's FAPI 2.0 checks.
 */
export const FAPI_PROFILE = 'gatehouse_fapi';

/** FAPI 2.0 Security Profile §5.3.2.1: an authorization code lives at most 60 seconds. */
export const FAPI_MAX_CODE_TTL_SECONDS = 60;

/** The per-client switches of issue 19's flows: sender-constrained tokens, PAR, the FAPI profile. */
export interface ClientFlowInput {
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request must carry a DPoP proof. */
  dpopBoundAccessTokens?: boolean;
  /** RFC 9126 §6 `require_pushed_authorization_requests`: authorization requests only through PAR. */
  requirePushedAuthorizationRequests?: boolean;
  /** The FAPI 2.0 Security Profile (FAPI_PROFILE). */
  fapi?: boolean;
}

/** Whether stored metadata marks a FAPI 2.0 client. */
export const isFapiClient = (metadata: Record<string, unknown>): boolean => metadata[FAPI_PROFILE] === true;

/**
 * The flow switches as client metadata, after the client's own rules: a FAPI 2.0 client
 * authenticates with private_key_jwt and uses the authorization code (FAPI 2.0 §5.3.2.1, §5.3.3);
 * what the profile then requires of every request it sets here, so that the stored client says
 * what is enforced.
 */
export function flowMetadata(
  input: ClientFlowInput,
  client: { authMethod: string; grantTypes: readonly string[] },
): Record<string, unknown> {
  const fapi = input.fapi === true;
  if (fapi && client.authMethod !== 'private_key_jwt')
    throw new InvalidInputError('fapi', 'a FAPI 2.0 client authenticates with private_key_jwt');
  if (fapi && !client.grantTypes.includes('authorization_code'))
    throw new InvalidInputError('fapi', 'a FAPI 2.0 client uses the authorization_code grant');
  if (input.requirePushedAuthorizationRequests && !client.grantTypes.includes('authorization_code'))
    throw new InvalidInputError('require_pushed_authorization_requests', 'needs the authorization_code grant');
  const dpop = fapi || input.dpopBoundAccessTokens === true;
  const par = fapi || input.requirePushedAuthorizationRequests === true;
  return {
    ...(dpop ? { dpop_bound_access_tokens: true } : {}),
    ...(par ? { require_pushed_authorization_requests: true } : {}),
    ...(fapi ? { [FAPI_PROFILE]: true } : {}),
  };
}

/** The flow switches of stored metadata, as input. */
export function flowInputOf(metadata: Record<string, unknown>): Required<ClientFlowInput> {
  return {
    dpopBoundAccessTokens: metadata.dpop_bound_access_tokens === true,
    requirePushedAuthorizationRequests: metadata.require_pushed_authorization_requests === true,
    fapi: isFapiClient(metadata),
  };
}
