import { errors, type Configuration, type KoaContextWithOIDC, type Grant, type JWK } from 'oidc-provider';
import type { Config } from '../config/schema.js';
import type { KeyMaterial } from './keys.js';
import { SIGNING_ALGS } from './keys.js';
import { buildInteractionPolicy, type PolicyDeps } from './policy.js';
import { SCOPE_CLAIMS } from './account.js';
import {
  ADMIN_SCOPES_FIELD,
  FIRST_PARTY,
  MAX_REFRESH_REUSE_GRACE_SECONDS,
  MFA_POLICY,
  REFRESH_REUSE_GRACE,
  VISIBLE_ROLES,
  isAdminScope,
} from '../clients/client-metadata.js';
import { buildResourceIndicators } from './resources.js';
import { createExtraTokenClaims, type RolesOf } from './roles.js';
import { createRegistrationPolicy, REGISTRATION_POLICY } from './registration-policy.js';
import { issueClientSecret } from './registration-response.js';
import { newClientId } from '../clients/client-id.js';
import { sessionTtl } from './session-lifetime.js';
import { providerFetch } from './outgoing-requests.js';
import { SUPPORTED_LOCALES } from '../i18n/locale.js';
import type { ConsentsRepository } from '../storage/consents.repository.js';
import { grantFromConsent } from './consent.js';
import { INTERACTION_PATH, ROUTES } from './routes.js';
import { OIDC_SCOPES } from '../config/oidc-scopes.js';
import type { AttributeClaim } from './account.js';
import { issuerBasePath } from '../config/issuer.js';
import type { PairwiseSubjects } from '../security/pairwise-subject.js';
import type { SectorCheck } from '../clients/sector-identifier.js';
import {
  FRONTCHANNEL_METADATA,
  frontchannelDiscovery,
  identityFeatures,
  subjectOptions,
  validateFrontchannelMetadata,
  withSectorCheck,
} from './features/identity.js';
import { flowFeatures, type FlowDeps } from './features/flows.js';
import { CODE_SWITCH_FIELDS, validateCodeSwitch } from '../clients/client-codes.js';
import { withPermissionClaims, type PermissionLookup } from './features/permissions.js';
import { actorOf } from './features/token-exchange.js';

/** How clients may authenticate; one list for every endpoint where they do (see `discovery`). */
const CLIENT_AUTH_METHODS: Configuration['clientAuthMethods'] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
];
const CLIENT_AUTH_SIGNING_ALGS: NonNullable<Configuration['enabledJWA']>['clientAuthSigningAlgValues'] = [
  'ES256',
  'ES384',
  'RS256',
  'PS256',
  'EdDSA',
];

export interface ProviderDeps {
  adapter: Configuration['adapter'];
  findAccount: NonNullable<Configuration['findAccount']>;
  keys: KeyMaterial;
  /** Consent remembered per user and client, read when a new session authorizes a client. */
  consents: Pick<ConsentsRepository, 'find'>;
  renderError: NonNullable<Configuration['renderError']>;
  logoutSource: (ctx: KoaContextWithOIDC, form: string) => Promise<void>;
  postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => Promise<void>;
  policy: Omit<PolicyDeps, 'mfaPolicy' | 'acr'>;
  /** A user's role names, for the `roles` claim in JWT access tokens. */
  rolesOf: RolesOf;
  /** API resources defined by admins and the permissions users and clients hold on them. */
  permissions: PermissionLookup;
  /** Pairwise `sub` values (OIDC Core §8.1) and the sector document check of dynamic registration. */
  identity: { pairwise: PairwiseSubjects; sectorCheck: SectorCheck };
  /** The device flow's pages and the DPoP nonce secret (src/oidc/features/flows.ts). */
  flows: Omit<FlowDeps, 'authorizationCodeTtl'>;
  /** The custom attributes admins defined: each is a claim released under its scope. */
  attributeClaims: readonly AttributeClaim[];
}

function isFirstParty(ctx: KoaContextWithOIDC): boolean {
  return ctx.oidc.client?.metadata()[FIRST_PARTY] === true;
}

/**
 * The consent a user gave a client is remembered across sessions: a new session gets its
 * own Grant (so logging out or revoking one session's tokens leaves the others alone) with
 * the scopes of the consent record (src/oidc/consent.ts), which outlives the sessions and
 * their grants. First-party clients get their grant without a consent page (oidc-provider
 * docs, "skipping consent"), holding the scopes each request asks for.
 */
function loadExistingGrant(consents: ProviderDeps['consents']) {
  return async (ctx: KoaContextWithOIDC): Promise<Grant | undefined> => {
    const { client, session, provider } = ctx.oidc;
    const accountId = session?.accountId;
    if (!client || !accountId) return undefined;
    const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
    let grant = grantId ? await provider.Grant.find(grantId) : undefined;
    if (grant && (grant.accountId !== accountId || grant.clientId !== client.clientId)) grant = undefined;
    let changed = false;
    // A first-party client's grant holds what each authorization request asks for (below), so
    // an earlier consent adds nothing it needs; only a client that shows a consent page uses it.
    if (!grant && !isFirstParty(ctx)) {
      grant = await grantFromConsent(provider, consents, accountId, client.clientId);
      changed = grant !== undefined;
    }
    if (isFirstParty(ctx)) {
      grant ??= new provider.Grant({ accountId, clientId: client.clientId });
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
      const claims = [...ctx.oidc.requestParamClaims];
      if (claims.length > 0) grant.addOIDCClaims(claims);
      // The requested scopes of each named resource (RFC 8707), as the consent page would grant.
      for (const [indicator, server] of Object.entries(ctx.oidc.resourceServers ?? {})) {
        const scopes = [...ctx.oidc.requestParamScopes].filter((s) => server.scopes.has(s));
        if (scopes.length > 0) grant.addResourceScope(indicator, scopes.join(' '));
      }
      changed = true;
    }
    if (grant && changed) await grant.save();
    return grant;
  };
}

/**
 * Scope → claims: the standard ones (account.ts) and each custom attribute under the scope an
 * admin mapped it to. oidc-provider releases only claims listed here (lib/helpers/claims.js),
 * which is why a changed attribute schema rebuilds the provider (provider.ts).
 */
function scopeClaims(attributes: readonly AttributeClaim[]): Record<string, string[]> {
  const claims: Record<string, string[]> = Object.fromEntries(
    Object.entries(SCOPE_CLAIMS).map(([scope, names]) => [scope, [...names]]),
  );
  for (const { name, scope } of attributes) (claims[scope] ??= []).push(name);
  return claims;
}

/** oidc-provider configuration as a pure function of validated config and dependencies. */
export function buildProviderOptions(config: Config, deps: ProviderDeps): Configuration {
  const secure = config.issuer.startsWith('https:');
  const cookie = { httpOnly: true, sameSite: 'lax' as const, secure, signed: true };
  const flows = flowFeatures(config.flows, { ...deps.flows, authorizationCodeTtl: config.ttl.authorizationCode });
  return {
    adapter: deps.adapter,
    findAccount: deps.findAccount,
    jwks: { keys: deps.keys.signingJwks as JWK[] },
    cookies: {
      keys: deps.keys.cookieKeys,
      // The session cookie. An RP on another site may POST its authorization request (OIDC
      // Core 3.1.2.1, served by src/oidc/form-post-requests.ts); a cross-site POST carries only
      // a SameSite=None cookie, and browsers keep one only with Secure, so an https issuer
      // marks it None and an http one (loopback, no Secure possible) keeps Lax: there a POST
      // from another site shows the sign-in page (docs/decisions.md, "Authorization requests by POST").
      long: { ...cookie, sameSite: secure ? 'none' : 'lax' },
      short: cookie,
      names: {
        session: secure ? '__Host-gh_session' : 'gh_session',
        interaction: 'gh_interaction',
        resume: 'gh_interaction_resume',
      },
    },
    interactions: {
      policy: buildInteractionPolicy({ ...deps.policy, mfaPolicy: config.mfa.policy, acr: config.acr }),
      // Under the issuer's path prefix, where the app is mounted (src/app.ts).
      url: (_ctx, interaction) => `${issuerBasePath(config.issuer)}${INTERACTION_PATH}/${interaction.uid}`,
    },
    loadExistingGrant: loadExistingGrant(deps.consents),
    renderError: deps.renderError,
    // OIDC Discovery §3: the languages our pages speak, which an RP may ask for with ui_locales.
    // RFC 8414 §2: without the *_auth_methods_supported entries a client may assume basic only;
    // oidc-provider authenticates clients at introspection and revocation as at the token
    // endpoint (clientAuthMethods), and names only the token endpoint's, so the others are added.
    discovery: {
      claim_types_supported: ['normal'],
      ui_locales_supported: [...SUPPORTED_LOCALES],
      introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
      introspection_endpoint_auth_signing_alg_values_supported: CLIENT_AUTH_SIGNING_ALGS,
      revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
      revocation_endpoint_auth_signing_alg_values_supported: CLIENT_AUTH_SIGNING_ALGS,
      ...frontchannelDiscovery(config.identity),
    },
    // `upstream=<connection id>` skips the choice of sign-in method and goes straight to that
    // upstream, as Keycloak's kc_idp_hint does (docs/federation.md, "Signing in").
    extraParams: ['upstream'],
    ...subjectOptions(config.identity, deps.identity.pairwise),
    // Authorization code only: no implicit or hybrid (RFC 9700 §2.1.2).
    responseTypes: ['code'],
    // PKCE for every client, S256 only (RFC 9700 §2.1.1; oidc-provider 9 offers only S256).
    pkce: { required: () => true },
    scopes: [...OIDC_SCOPES],
    claims: scopeClaims(deps.attributeClaims),
    extraTokenClaims: withPermissionClaims(deps.permissions, createExtraTokenClaims(deps.rolesOf), actorOf),
    acrValues: [config.acr.password, config.acr.mfa, config.acr.phishingResistant],
    clientAuthMethods: CLIENT_AUTH_METHODS,
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
      require_auth_time: true,
    },
    extraClientMetadata: {
      properties: [
        FIRST_PARTY,
        MFA_POLICY,
        VISIBLE_ROLES,
        ADMIN_SCOPES_FIELD,
        REFRESH_REUSE_GRACE,
        ...FRONTCHANNEL_METADATA,
        ...flows.clientMetadata.properties,
        ...CODE_SWITCH_FIELDS,
      ],
      validator(_ctx, key, value, metadata) {
        validateFrontchannelMetadata(key, value);
        flows.clientMetadata.validate(key, value, metadata);
        validateCodeSwitch(key, value);
        if (key === FIRST_PARTY && value !== undefined && typeof value !== 'boolean') {
          throw new Error(`${FIRST_PARTY} must be a boolean`);
        }
        if (key === MFA_POLICY && value !== undefined && value !== 'optional' && value !== 'required') {
          throw new Error(`${MFA_POLICY} must be "optional" or "required"`);
        }
        if (
          key === VISIBLE_ROLES &&
          value !== undefined &&
          !(Array.isArray(value) && value.every((v) => typeof v === 'string'))
        ) {
          throw new Error(`${VISIBLE_ROLES} must be an array of role names`);
        }
        if (
          key === ADMIN_SCOPES_FIELD &&
          value !== undefined &&
          !(Array.isArray(value) && value.every((v) => typeof v === 'string' && isAdminScope(v)))
        ) {
          throw new Error(`${ADMIN_SCOPES_FIELD} must list admin:read and/or admin:write`);
        }
        if (
          key === REFRESH_REUSE_GRACE &&
          value !== undefined &&
          !(
            typeof value === 'number' &&
            Number.isInteger(value) &&
            value >= 0 &&
            value <= MAX_REFRESH_REUSE_GRACE_SECONDS
          )
        ) {
          throw new Error(
            `${REFRESH_REUSE_GRACE} must be a whole number of seconds from 0 to ${MAX_REFRESH_REUSE_GRACE_SECONDS}`,
          );
        }
      },
    },
    enabledJWA: {
      idTokenSigningAlgValues: [...SIGNING_ALGS],
      userinfoSigningAlgValues: [...SIGNING_ALGS],
      introspectionSigningAlgValues: [...SIGNING_ALGS],
      authorizationSigningAlgValues: [...SIGNING_ALGS],
      requestObjectSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'],
      clientAuthSigningAlgValues: CLIENT_AUTH_SIGNING_ALGS,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A client may introspect only the tokens issued to it (RFC 7662 §4: the server decides
      // who may learn what); resource servers get their own audience rule with resource indicators.
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        // Only the client a token was issued to may revoke it, and another is told so (RFC 7009
        // §2.1); a public client gets a plain 200, so it cannot probe other clients' tokens.
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      // RFC 7591: never open registration. Every registration presents an initial access
      // token (§3, "protected" registration) created by an admin (initial-access-tokens.ts)
      // and carrying our policy, which oidc-provider hands on to the registration access
      // token so RFC 7592 updates meet the same rules.
      registration: {
        enabled: config.registration.enabled,
        initialAccessToken: true,
        policies: {
          [REGISTRATION_POLICY]: withSectorCheck(
            createRegistrationPolicy(config.registration.policy),
            deps.identity.sectorCheck,
          ),
        },
        // Same shape as admin-created client ids (client-id.ts): never starting with "-".
        idFactory: newClientId,
        secretFactory: issueClientSecret,
        issueRegistrationAccessToken: true,
      },
      // RFC 7592 read, update and delete with the registration access token, rotated on
      // every update (the stolen-token window of §1.1 closes with each use).
      registrationManagement: { enabled: config.registration.enabled, rotateRegistrationAccessToken: true },
      userinfo: { enabled: true },
      ...identityFeatures(config.identity),
      resourceIndicators: buildResourceIndicators(config.resources, config.issuer, deps.permissions),
      // OpenID Connect Back-Channel Logout 1.0: discovery, client metadata, and the library's
      // delivery at end_session; every other way a session ends goes through
      // src/oidc/backchannel-logout.ts, which also retries and records (docs/sessions.md).
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: deps.logoutSource,
        postLogoutSuccessSource: deps.postLogoutSuccessSource,
      },
      // Device flow, DPoP, PAR, signed request objects, FAPI 2.0 (config `flows`).
      ...flows.features,
    },
    routes: ROUTES,
    fetch: providerFetch(config.issuer),
    // A client allowed the refresh_token grant gets a refresh token with every code, not only
    // for offline_access (issue 15 §3: RPs such as mod_auth_openidc never ask for it). Without
    // offline_access the code, and so the refresh token, expires with the session
    // (expiresWithSession below; lib/helpers/grant_common.js copies it and sessionUid): once the
    // session ends (logout, sign out, expiry) the provider no longer finds it
    // (checkSessionBinding, lib/models/token_helpers.js) and a refresh is invalid_grant.
    // offline_access keeps its meaning: OIDC Core §11, access while the user is not there.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // oidc-provider's default, spelled out because the rule above depends on it.
    expiresWithSession: async (_ctx, code) => !code.scopes.has('offline_access'),
    // Rotation on every use; reuse of a rotated token revokes the grant (the provider does
    // that sequentially, the adapter's consume under concurrency).
    rotateRefreshToken: true,
    ttl: {
      // A configured resource's own accessTokenTtl wins (getResourceServerInfo, src/oidc/resources.ts).
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.ttl.accessToken,
      // At most 60 s for a FAPI 2.0 client (src/oidc/features/flows.ts).
      AuthorizationCode: flows.ttl.AuthorizationCode,
      DeviceCode: flows.ttl.DeviceCode,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.ttl.clientCredentials,
      IdToken: config.ttl.idToken,
      Interaction: config.ttl.interaction,
      Session: sessionTtl(config.sessions),
      Grant: config.ttl.grant,
      // An absolute lifetime for the whole chain of rotated tokens (ASVS 5 10.4.8).
      RefreshToken: (ctx) => ctx?.oidc?.entities.RotatedRefreshToken?.remainingTTL ?? config.ttl.refreshToken,
    },
  };
}
