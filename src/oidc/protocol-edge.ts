import type { Middleware } from 'koa';
import type { RateLimits } from '../security/rate-limits.js';
import type { Storage } from '../storage/storage.js';
import { refuseUnstorableProviderInput } from '../http/storable-input.js';
import { limitTokenRequests } from '../security/token-rate-limit.js';
import { hashPresentedClientSecret } from './client-secret.js';
import { refusePendingClients } from './pending-clients.js';
import { omitStoredClientSecret } from './registration-response.js';
import { runTokenRequestsInOneTransaction } from './token-transaction.js';
import { providerEndpointInterop } from './endpoint-interop.js';
import type { RequestClientReads } from './request-client-reads.js';
import { CLIENT_AUTH_ROUTES, ROUTES } from './routes.js';
import { frontchannelLogout, type FrontchannelLogoutDeps } from './frontchannel-logout.js';
import { announcePollInterval, limitUserCodeLookups, refuseFastPolls, type PollingDeps } from './device-flow-edge.js';

/** One guard in front of the provider: what it is, which endpoints it acts on, and the middleware. */
export interface EdgeStep {
  name: string;
  /** Provider paths it acts on (`/:param` for a parameter), or 'any' for one that reads no path. */
  covers: readonly string[] | 'any';
  run: Middleware;
}

export interface ProtocolEdgeDeps {
  limits: RateLimits;
  clientReads: Pick<RequestClientReads, 'statusOf'>;
  storage: Storage;
  /** Front-Channel Logout 1.0 (frontchannel-logout.ts); absent: off. */
  frontchannel?: Omit<FrontchannelLogoutDeps, 'confirmPath'>;
  /** The device flow's polling rule (RFC 8628 §3.5): where the last polls are kept, the clock, the interval. */
  devicePolling: PollingDeps;
}

const END_SESSION_CONFIRM = `${ROUTES.end_session}/confirm`;

const CLIENT_CONFIGURATION = `${ROUTES.registration}/:clientId`;

/** Which provider paths each guard acts on; a test checks every one is an endpoint the provider serves. */
export const EDGE_COVERAGE = {
  unstorableInput: 'any',
  tokenRateLimit: [ROUTES.token],
  userCodeLookups: [ROUTES.code_verification],
  devicePolling: [ROUTES.token],
  pollInterval: [ROUTES.device_authorization],
  secretHashing: [...CLIENT_AUTH_ROUTES, CLIENT_CONFIGURATION],
  pendingClients: [ROUTES.authorization, ...CLIENT_AUTH_ROUTES],
  registrationResponse: [ROUTES.registration, CLIENT_CONFIGURATION],
  tokenTransaction: [ROUTES.token],
  interop: [ROUTES.authorization, ROUTES.end_session, ROUTES.revocation],
  frontchannelLogout: [END_SESSION_CONFIRM],
} as const satisfies Record<string, EdgeStep['covers']>;

/**
 * Everything between our routers and oidc-provider, in the order it runs, each guard with the
 * endpoints it covers, all read from ROUTES (the object the provider itself is given). A path
 * reaches these in its canonical spelling: the app's first middleware rewrites every spelling the
 * provider would route (canonical-path.ts), so a guard's exact comparison cannot be stepped around.
 * Order matters where noted.
 */
export function protocolEdge(deps: ProtocolEdgeDeps): EdgeStep[] {
  return [
    // First: before any guard reads a field into a database lookup.
    {
      name: 'refuse text the database cannot store',
      covers: EDGE_COVERAGE.unstorableInput,
      run: refuseUnstorableProviderInput,
    },
    // Before secret hashing and the pending check: a flood costs one counter, not a client read.
    {
      name: 'per-client token rate limit',
      covers: EDGE_COVERAGE.tokenRateLimit,
      run: limitTokenRequests(deps.limits, ROUTES.token),
    },
    // Before the provider looks a user code up.
    {
      name: 'per-address limit on device user code lookups',
      covers: EDGE_COVERAGE.userCodeLookups,
      run: limitUserCodeLookups(deps.limits, ROUTES.code_verification),
    },
    // Before the transaction and the provider: a too-early poll costs one key-value read.
    {
      name: 'device code polled too fast: slow_down',
      covers: EDGE_COVERAGE.devicePolling,
      run: refuseFastPolls(deps.devicePolling, ROUTES.token),
    },
    {
      name: 'the poll interval in device authorization responses',
      covers: EDGE_COVERAGE.pollInterval,
      run: announcePollInterval(deps.devicePolling.pollIntervalSeconds, ROUTES.device_authorization),
    },
    {
      name: 'hash a presented client secret (stored as a digest)',
      covers: EDGE_COVERAGE.secretHashing,
      run: hashPresentedClientSecret(CLIENT_AUTH_ROUTES, ROUTES.registration),
    },
    {
      name: 'refuse clients pending approval',
      covers: EDGE_COVERAGE.pendingClients,
      run: refusePendingClients(deps.clientReads.statusOf, {
        authorization: ROUTES.authorization,
        clientAuth: CLIENT_AUTH_ROUTES,
      }),
    },
    {
      name: 'omit the stored secret digest from registration responses',
      covers: EDGE_COVERAGE.registrationResponse,
      run: omitStoredClientSecret(ROUTES.registration),
    },
    // Last of the guards: the transaction holds only the provider's own work.
    {
      name: 'one transaction per token request',
      covers: EDGE_COVERAGE.tokenTransaction,
      run: runTokenRequestsInOneTransaction(deps.storage, ROUTES.token),
    },
    {
      name: 'interop: form POSTs served as GET, revocation answered as JSON',
      covers: EDGE_COVERAGE.interop,
      run: providerEndpointInterop({
        authorization: ROUTES.authorization,
        endSession: ROUTES.end_session,
        revocation: ROUTES.revocation,
      }),
    },
    // Around the provider's logout confirmation: it reads the session before the provider ends it.
    {
      name: 'front-channel logout frames when a session ends',
      covers: EDGE_COVERAGE.frontchannelLogout,
      run: deps.frontchannel
        ? frontchannelLogout({ ...deps.frontchannel, confirmPath: END_SESSION_CONFIRM })
        : async (_ctx, next) => next(),
    },
  ];
}
