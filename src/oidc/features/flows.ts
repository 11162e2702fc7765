import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config/schema.js';
import { FAPI_MAX_CODE_TTL_SECONDS, FAPI_PROFILE, isFapiClient } from '../../clients/client-flows.js';

type Features = NonNullable<Configuration['features']>;
type DeviceFlow = NonNullable<Features['deviceFlow']>;

/** The pages of the device flow at /device, rendered in our views (src/web/device/). */
export type DevicePages = Pick<DeviceFlow, 'userCodeInputSource' | 'userCodeConfirmSource' | 'successSource'>;

/**
 * RFC 8628 §6.1: user codes from 20 consonants without vowels (no words, nothing to confuse
 * with a digit: no O, I or L… only B C D F G H J K L M N P Q R S T V W X Z), 8 of them in two
 * groups: 20^8 ≈ 2.6·10^10 codes, of which a few hundred are alive at once, against 20 guesses
 * per address every 15 minutes (rateLimits.deviceUserCodeIp).
 */
const USER_CODE = { charset: 'base-20', mask: '****-****' } as const;

export interface FlowDeps {
  /** Where a DPoP nonce comes from (RFC 9449 §8): the same on every replica, derived from the key-encryption secret. */
  dpopNonceSecret: Buffer;
  devicePages: DevicePages;
  /** config.ttl.authorizationCode: a FAPI 2.0 client's codes live no longer than 60 s of it. */
  authorizationCodeTtl: number;
}

const fapiOf = (client: { metadata(): Record<string, unknown> } | undefined): boolean =>
  client !== undefined && isFapiClient(client.metadata());

/**
 * The provider features of issue 19's "Flows and binding" from `config.flows`: each one off
 * is off in discovery too, since oidc-provider advertises only what it has enabled.
 */
export function flowFeatures(flows: Config['flows'], deps: FlowDeps) {
  const features = {
    deviceFlow: {
      enabled: flows.deviceFlow.enabled,
      ...USER_CODE,
      ...deps.devicePages,
    },
    // oidc-provider binds tokens to the key of any proof it is sent (RFC 9449 §5, §7); a
    // client with dpop_bound_access_tokens must send one. Nonces are optional (see config).
    dPoP: {
      enabled: flows.dpop.enabled,
      nonceSecret: deps.dpopNonceSecret,
      requireNonce: () => flows.dpop.requireNonce,
      allowReplay: false,
    },
    pushedAuthorizationRequests: {
      enabled: flows.pushedAuthorizationRequests.enabled,
      requirePushedAuthorizationRequests: flows.pushedAuthorizationRequests.requiredForAllClients,
      allowUnregisteredRedirectUris: false,
    },
    // Signed request objects only: the signing algorithms (enabledJWA) are asymmetric, so a
    // request object is verified with the client's own jwks/jwks_uri; `none` and HS* are refused
    // (client secrets are stored as digests, docs/decisions.md). A request_uri is never fetched:
    // oidc-provider 9 takes only the ones its PAR endpoint issued.
    requestObjects: { enabled: flows.requestObjects.enabled, requireSignedRequestObject: false },
    // The FAPI 2.0 profile per client: oidc-provider's own checks for it (PKCE, redirect_uri
    // present, request object exp/nbf/aud, client assertion aud = issuer) run for those clients.
    fapi: {
      enabled: flows.fapi.enabled,
      profile: (ctx: KoaContextWithOIDC) => (fapiOf(ctx.oidc.client) ? ('2.0' as const) : undefined),
    },
  } satisfies Partial<Features>;
  return {
    features,
    ttl: {
      DeviceCode: flows.deviceFlow.codeTtlSeconds,
      AuthorizationCode: (ctx: KoaContextWithOIDC) =>
        fapiOf(ctx?.oidc?.client)
          ? Math.min(deps.authorizationCodeTtl, FAPI_MAX_CODE_TTL_SECONDS)
          : deps.authorizationCodeTtl,
    },
    /** Gatehouse's client metadata field for the FAPI profile, and its rule. */
    clientMetadata: {
      properties: [FAPI_PROFILE],
      validate(key: string, value: unknown, metadata: Record<string, unknown>): void {
        if (key !== FAPI_PROFILE || value === undefined) return;
        if (typeof value !== 'boolean') throw new errors.InvalidClientMetadata(`${FAPI_PROFILE} must be a boolean`);
        if (!value) return;
        // A FAPI client whose protections are switched off is refused, not served without them.
        if (!flows.fapi.enabled || !flows.pushedAuthorizationRequests.enabled || !flows.dpop.enabled) {
          throw new errors.InvalidClientMetadata(
            `${FAPI_PROFILE} needs flows.fapi, flows.pushedAuthorizationRequests and flows.dpop enabled`,
          );
        }
        if (metadata.token_endpoint_auth_method !== 'private_key_jwt') {
          throw new errors.InvalidClientMetadata(`${FAPI_PROFILE} needs token_endpoint_auth_method private_key_jwt`);
        }
        metadata.require_pushed_authorization_requests = true;
        metadata.dpop_bound_access_tokens = true;
      },
    },
  };
}
