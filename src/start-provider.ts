import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import type { Resources } from './resources.js';
import type { Services } from './services.js';
import { createAdapter } from './oidc/adapter.js';
import { createFindAccount } from './oidc/account.js';
import { buildProviderOptions } from './oidc/options.js';
import { createProviderHost, type ProviderHost } from './oidc/provider.js';
import { createRegisteredClientStore } from './oidc/registered-client-store.js';
import { createRequestClientReads, type RequestClientReads } from './oidc/request-client-reads.js';
import { createBackchannelLogout, type BackchannelLogout } from './oidc/backchannel-logout.js';
import { attachBackchannelEvents, attachSessionHandling } from './oidc/session-events.js';
import { attachProviderMetrics } from './observability/provider-metrics.js';
import { createTokenRequestTally, type TokenRequestTally } from './observability/token-requests.js';
import { createSectorCheck } from './clients/sector-identifier.js';
import { deriveKey } from './security/key-encryption-secret.js';
import type { DevicePages } from './oidc/features/flows.js';
import type { ProviderPages } from './oidc/provider-pages.js';
import { upstreamSignInHandling } from './oidc/upstream-sign-in.js';
import { registerTokenExchange } from './oidc/features/token-exchange.js';
import type { KeyMaterial } from './oidc/keys.js';

export interface StartedProvider {
  host: ProviderHost;
  /** Client rows read once per request, shared by the pending-client check and the provider. */
  clientReads: RequestClientReads;
  backchannel: BackchannelLogout;
  /** Token responses counted per client for the dashboard, written to the audit log every five minutes. */
  tokenRequests: TokenRequestTally;
}

/**
 * The provider host over the services, and what works beside it: the client reads of each
 * request, and back-channel logout, which signs with the host's current provider (keys rotate)
 * and listens for every way a session ends (services.sessionsEnded).
 */
export async function startProvider(
  config: Config,
  resources: Pick<Resources, 'opened' | 'tokenDigest' | 'metrics' | 'keyEncryption' | 'box'>,
  services: Pick<
    Services,
    'keys' | 'audit' | 'accounts' | 'secondFactors' | 'codeFactors' | 'onSessionsEnded' | 'pairwise' | 'upstreamSignOut'
  >,
  deps: { log: Logger; pages: ProviderPages; devicePages: DevicePages },
): Promise<StartedProvider> {
  const { storage } = resources.opened;
  const { audit } = services;
  const { log } = deps;
  const dpopNonceSecret = deriveKey(resources.keyEncryption.key, 'dpop-nonce');
  const clientReads = createRequestClientReads(storage.clients);
  const registeredClients = createRegisteredClientStore({
    transaction: storage.transaction,
    audit,
    requireApproval: config.registration.requireApproval,
    written: (id) => clientReads.forget(id),
  });
  // Writes nobody awaits must not ride on a token request's transaction (src/storage/request-transaction.ts).
  const unawaitedAudit: typeof audit = {
    ...audit,
    record: (...event) => storage.outsideRequestTransaction(() => audit.record(...event)),
  };
  const tokenRequests = createTokenRequestTally({ audit: unawaitedAudit, log });
  // The keys of the provider being built, for the token exchange's check of JWT subject tokens.
  let building: KeyMaterial | undefined;
  const host = await createProviderHost(config, {
    keys: services.keys,
    log,
    // Its listeners do not await their audit writes (src/oidc/events.ts).
    audit: unawaitedAudit,
    extend: (provider) => {
      attachSessionHandling(provider, {
        sessions: storage.sessions,
        audit,
        log,
        idleTimeoutSeconds: config.sessions.idleTimeoutSeconds,
      });
      attachProviderMetrics(provider, resources.metrics);
      tokenRequests.attach(provider);
      provider.use(
        upstreamSignInHandling({
          upstreamSignOut: services.upstreamSignOut,
          sessionSeconds: config.sessions.absoluteLifetimeSeconds,
          page: deps.pages.upstreamSignOut,
          log,
        }),
      );
      // RFC 8693: registered only when on, so discovery lists the grant type only then.
      if (config.flows.tokenExchange.enabled)
        registerTokenExchange(provider, {
          lookup: storage.permissions,
          signingJwks: building?.signingJwks ?? [],
          issuer: config.issuer,
          grantsOf: (accountId) => storage.sessions.listGrants(accountId),
          exchanged: (event) => {
            void storage
              .outsideRequestTransaction(() =>
                audit.record('token.exchanged', {
                  actorId: null,
                  clientId: event.clientId,
                  subjectId: event.accountId,
                  details: { resource: event.resource, scope: event.scope, subject_client_id: event.subjectClientId },
                }),
              )
              .catch((err: unknown) => log.warn({ err }, 'could not audit a token exchange'));
          },
        });
    },
    // The custom attributes are claims the provider is built with (oidc/options.ts scopeClaims).
    schemaFingerprint: () => storage.attributes.fingerprint(),
    buildOptions: async (material) => {
      building = material;
      const attributeClaims = await storage.attributes.list();
      return buildProviderOptions(config, {
        adapter: createAdapter({
          oidc: storage.oidc,
          digest: resources.tokenDigest,
          clients: clientReads,
          registeredClients,
          sessions: config.sessions,
        }),
        findAccount: createFindAccount(
          services.accounts,
          storage.roles.rolesOf,
          services.codeFactors.phoneClaims,
          attributeClaims,
        ),
        rolesOf: storage.roles.rolesOf,
        keys: material,
        consents: storage.consents,
        identity: { pairwise: services.pairwise, sectorCheck: createSectorCheck(config.issuer) },
        policy: {
          signInFactorsOf: async (accountId, client) => {
            const { factors, available } = await services.codeFactors.signInFactors(accountId, client);
            return { enrolled: factors.enrolled, codeChannels: available };
          },
          smsAllowedFor: (client) => services.codeFactors.smsAllowedFor(client),
        },
        // One nonce secret for every replica (RFC 9449 §8), derived like the other purpose keys.
        flows: { dpopNonceSecret: dpopNonceSecret, devicePages: deps.devicePages },
        renderError: deps.pages.renderError,
        logoutSource: deps.pages.logoutSource,
        postLogoutSuccessSource: deps.pages.postLogoutSuccessSource,
        permissions: storage.permissions,
        attributeClaims,
      });
    },
  });
  const backchannel = createBackchannelLogout({
    provider: () => host.current,
    audit,
    log,
    settings: config.sessions.backchannelLogout,
  });
  services.onSessionsEnded((sessions) => backchannel.sessionsEnded(sessions));
  host.extend((provider) => attachBackchannelEvents(provider, backchannel));
  return { host, clientReads, backchannel, tokenRequests };
}
