import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { z } from 'zod';
import type { ClientRow } from '../../storage/entities/client.entity.js';
import type { KeyValueStore } from '../../storage/key-value-store.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { ProviderHost } from '../../oidc/provider.js';
import { parseJsonAs } from '../../typed-json.js';
import { tryCallbackUri } from '../../admin/console-client.js';
import { isFapiClient } from '../../clients/client-flows.js';
import { InvalidInputError } from '../../errors/domain-errors.js';

/** Long enough to sign in with a second factor and a consent page; short enough to leave nothing behind. */
const FLOW_SECONDS = 600;
const CONTEXT = 'kv:console-try-sign-in';
const STATE = /^[A-Za-z0-9_-]{22}$/;
/** Seconds Gatehouse waits for its own discovery, JWKS and token endpoints. */
const TIMEOUT_SECONDS = 10;

const storedFlow = z.object({
  clientId: z.string(),
  verifier: z.string(),
  nonce: z.string(),
  /** The client's token endpoint auth method: none, client_secret_basic or client_secret_post. */
  authMethod: z.string(),
  clientSecret: z.string().optional(),
});
type StoredFlow = z.infer<typeof storedFlow>;

export type TryOutcome =
  { clientId: string; claims: Record<string, unknown> } | { clientId: string; error: string; description?: string };

const list = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v) => typeof v === 'string') : []);

/**
 * Why a client cannot be tried from the console, or undefined when it can (given the test
 * callback among its redirect URIs, which the page offers to add when it is missing).
 */
export function tryRefusal(client: ClientRow): string | undefined {
  const m = client.metadata;
  if (client.status !== 'active') return 'The client is waiting for approval.';
  if (!list(m.grant_types).includes('authorization_code'))
    return 'Try sign-in is for clients that sign people in through a browser (the authorization code grant).';
  if (
    !String(m.scope ?? '')
      .split(' ')
      .includes('openid')
  )
    return 'Without the openid scope there is no ID token to show.';
  if (m.token_endpoint_auth_method === 'private_key_jwt')
    return 'This client signs its token requests with its own private key, which Gatehouse does not hold.';
  if (isFapiClient(m) || m.require_pushed_authorization_requests === true || m.dpop_bound_access_tokens === true)
    return 'This client requires pushed authorization requests or DPoP, which the test sign-in does not do.';
  return undefined;
}

/**
 * "Try sign-in" on a client's integration page (issue 21): a real authorization code + PKCE
 * round trip to that client, ending at the console's test callback, which redeems the code at
 * the token endpoint as the application would (openid-client, the ID token checked against the
 * JWKS) and shows the ID token's claims. The flow's verifier, nonce and (for a confidential
 * client) the secret the admin typed wait in the shared store, sealed, under the state and the
 * admin's console session, for one use. Security: docs/decisions.md, "Try sign-in".
 */
export function createTrySignIn(deps: { issuer: string; kv: KeyValueStore; box: SecretBox; host: ProviderHost }) {
  const { issuer, kv, box, host } = deps;
  const callbackUri = tryCallbackUri(issuer);
  const key = (sessionUid: string, state: string) => `console-try:${sessionUid}:${state}`;
  const insecure = issuer.startsWith('http:');

  /** The token request as the application makes it: its own id and credential, at the public token endpoint. */
  async function redeem(flow: StoredFlow, state: string, query: string): Promise<TryOutcome> {
    const secret = flow.clientSecret ?? '';
    const auth =
      flow.authMethod === 'client_secret_basic'
        ? oidc.ClientSecretBasic(secret)
        : flow.authMethod === 'client_secret_post'
          ? oidc.ClientSecretPost(secret)
          : oidc.None();
    try {
      const config = await oidc.discovery(new URL(issuer), flow.clientId, undefined, auth, {
        execute: insecure ? [oidc.allowInsecureRequests] : [],
        timeout: TIMEOUT_SECONDS,
      });
      const tokens = await oidc.authorizationCodeGrant(config, new URL(`${callbackUri}?${query}`), {
        pkceCodeVerifier: flow.verifier,
        expectedState: state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      return { clientId: flow.clientId, claims: { ...tokens.claims() } };
    } catch (error) {
      if (error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError)
        return { clientId: flow.clientId, error: error.error, description: error.error_description };
      // A refused client_secret_basic is a 401 whose error is in WWW-Authenticate (RFC 6749 §5.2).
      if (error instanceof oidc.WWWAuthenticateChallengeError) {
        const challenge = error.cause[0]?.parameters;
        return {
          clientId: flow.clientId,
          error: challenge?.error ?? 'invalid_client',
          description: challenge?.error_description,
        };
      }
      if (error instanceof oidc.ClientError)
        return { clientId: flow.clientId, error: 'rejected', description: error.message };
      // fetch's own failure: this server could not reach its issuer's address.
      return {
        clientId: flow.clientId,
        error: 'unreachable',
        description: `Gatehouse could not reach its own endpoints at ${issuer} from the server (${error instanceof Error ? error.message : 'unknown error'}).`,
      };
    }
  }

  return {
    callbackUri,

    /** Whether the client has the test callback among its redirect URIs (the admin's explicit choice). */
    registered: (client: ClientRow): boolean => list(client.metadata.redirect_uris).includes(callbackUri),

    /**
     * Starts a sign-in to `client` for this console session; returns the authorization URL (the
     * provider's own endpoint, every parameter chosen here: nothing from the request is a target).
     */
    async start(sessionUid: string, client: ClientRow, clientSecret: string | undefined): Promise<string> {
      const refusal = tryRefusal(client);
      if (refusal) throw new InvalidInputError('try', refusal);
      if (!list(client.metadata.redirect_uris).includes(callbackUri))
        throw new InvalidInputError('try', 'Register the test callback for this client first.');
      const authMethod = String(client.metadata.token_endpoint_auth_method ?? 'client_secret_basic');
      const confidential = authMethod !== 'none';
      if (confidential && !clientSecret)
        throw new InvalidInputError('client_secret', "paste the client's secret: the token request needs it");
      const state = randomBytes(16).toString('base64url');
      const flow: StoredFlow = {
        clientId: client.id,
        verifier: oidc.randomPKCECodeVerifier(),
        nonce: oidc.randomNonce(),
        authMethod,
        ...(confidential ? { clientSecret } : {}),
      };
      await kv.set(key(sessionUid, state), box.seal(JSON.stringify(flow), CONTEXT), FLOW_SECONDS);
      const url = new URL(host.current.urlFor('authorization'));
      url.search = new URLSearchParams({
        client_id: client.id,
        response_type: 'code',
        redirect_uri: callbackUri,
        // No offline_access: a test leaves no refresh token behind.
        scope: String(client.metadata.scope)
          .split(' ')
          .filter((s) => s && s !== 'offline_access')
          .join(' '),
        state,
        nonce: flow.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
        code_challenge_method: 'S256',
      }).toString();
      return url.toString();
    },

    /**
     * The callback: only a state this console session started, once. Anything else (another
     * session's state, a replay, a code sent here by someone else's authorization request) is
     * undefined: no token request is made and nothing of the request is shown.
     */
    async finish(
      sessionUid: string,
      query: Record<string, unknown>,
      querystring: string,
    ): Promise<TryOutcome | undefined> {
      const state = query.state;
      if (typeof state !== 'string' || !STATE.test(state)) return undefined;
      const sealed = await kv.take(key(sessionUid, state));
      const flow = sealed ? parseJsonAs(box.open(sealed, CONTEXT), storedFlow) : undefined;
      if (!flow) return undefined;
      return redeem(flow, state, querystring);
    },
  };
}
