import { createPrivateKey } from 'node:crypto';
import * as oauth from 'openid-client';
import { importPKCS8 } from 'jose';
import { isLoopbackHost } from '../config/loopback.js';
import type { Connection } from './connection.js';
import type { UpstreamSettings } from './presets.js';
import type { AppleSecrets } from './apple-secret.js';
import { FederationError } from './errors.js';

/**
 * Every exchange with an upstream goes through openid-client (issue 17: no hand-written token
 * or ID token validation): discovery, the authorization URL with PKCE, state and nonce, the
 * callback's checks (state, RFC 9207 `iss`, error), the code exchange, ID token validation,
 * user info. Plain OAuth 2 upstreams get a Configuration built from their known endpoints.
 * Every request is bounded by `federation.upstreamTimeoutMs`.
 */
export interface UpstreamTarget {
  connection: Connection;
  settings: UpstreamSettings;
  /** The opened client secret or private key. */
  secret: string | null;
}

export interface AuthorizationRequest {
  redirectUri: string;
  state: string;
  nonce: string;
  codeChallenge: string;
  /** Passed on to the upstream's chooser (`login_hint`), from home-realm discovery. */
  loginHint?: string;
}

export interface CallbackChecks {
  redirectUri: string;
  /** The callback's parameters: its query, or the body of a form_post. */
  params: Record<string, string>;
  state: string;
  nonce: string;
  verifier: string;
}

/** The claims the upstream vouched for (ID token, user info, API), before the connection's mapping. */
export type UpstreamClaims = Record<string, unknown>;

/** What a code exchange gives: the claims, and the OIDC upstream's ID token (for its sign-out's `id_token_hint`). */
export interface Exchanged {
  claims: UpstreamClaims;
  idToken: string | undefined;
}

/** An upstream sign-out (RP-Initiated Logout 1.0 §2) for the ID token of a sign-in through it. */
export interface EndSessionRequest {
  idToken: string;
  /** Where the upstream sends the browser back: registered there, like the callback. */
  postLogoutRedirectUri: string;
  state: string;
}

/** Discovered metadata is kept this long before it is asked for again (keys rotate through the JWKS cache). */
const METADATA_TTL_MS = 60 * 60 * 1000;

function isInsecureLoopback(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname);
}

/** Reads the cause chain: a timeout, a refused or reset connection, a name that does not resolve. */
function isUnreachable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth += 1) {
    const { name, message, code } = e as { name?: string; message?: string; code?: string };
    if (name === 'TimeoutError' || name === 'AbortError') return true;
    if (name === 'TypeError' && message === 'fetch failed') return true;
    if (
      typeof code === 'string' &&
      /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|UND_ERR_)/.test(code)
    )
      return true;
  }
  return false;
}

/** The message of the innermost cause: openid-client wraps oauth4webapi's, which names the parameter or claim. */
function innermostMessages(error: unknown): string {
  const messages: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (e instanceof Error) messages.push(e.message);
  }
  return messages.join(' | ');
}

/** An openid-client failure as the reason the attempt ended. */
function classifyUpstreamError(error: unknown): FederationError {
  if (error instanceof FederationError) return error;
  if (error instanceof oauth.AuthorizationResponseError || error instanceof oauth.ResponseBodyError) {
    return new FederationError('upstream_error', `the upstream answered ${error.error}`, {
      cause: error,
      upstreamError: error.error,
    });
  }
  if (isUnreachable(error))
    return new FederationError('upstream_unavailable', 'the upstream did not answer in time or could not be reached', {
      cause: error,
    });
  const messages = innermostMessages(error);
  if (/"iss"/.test(messages))
    return new FederationError('issuer_mismatch', "the response names another issuer than the connection's", {
      cause: error,
    });
  if (/"nonce"/.test(messages))
    return new FederationError('nonce_mismatch', "the ID token's nonce is not this attempt's", { cause: error });
  if (/"state"/.test(messages))
    return new FederationError('state_mismatch', "the response's state is not this attempt's", { cause: error });
  return new FederationError('upstream_error', "the upstream's response could not be used", { cause: error });
}

async function privateKeyJwt(pem: string, kid: string | undefined): Promise<oauth.ClientAuth> {
  const type = createPrivateKey(pem).asymmetricKeyType;
  const alg = type === 'rsa' ? 'RS256' : type === 'ed25519' ? 'EdDSA' : 'ES256';
  const key = await importPKCS8(pem, alg);
  return oauth.PrivateKeyJwt(kid ? { key, kid } : key);
}

export function createUpstreams(deps: { timeoutMs: number; appleSecrets: AppleSecrets; now?: () => number }) {
  const now = deps.now ?? Date.now;
  const metadata = new Map<string, { version: string; server: oauth.Configuration; expiresAt: number }>();

  // Every upstream request ends by our timeout (federation.upstreamTimeoutMs), and by nothing
  // else: the signal openid-client passes is only its own timeout (30 s for discovery; ours
  // rounded up to whole seconds afterwards, `config.timeout` below), which would cut nothing
  // ours does not, except a discovery under a bound set above 30 s, which now gets the bound set.
  const boundedFetch: oauth.CustomFetch = (url, options) =>
    fetch(url, { ...options, signal: AbortSignal.timeout(deps.timeoutMs) });

  async function clientAuth(target: UpstreamTarget): Promise<oauth.ClientAuth> {
    const { settings, connection, secret } = target;
    switch (settings.clientAuth) {
      case 'client_secret_basic':
        return oauth.ClientSecretBasic(secret ?? '');
      case 'client_secret_post':
        return oauth.ClientSecretPost(secret ?? '');
      case 'private_key_jwt':
        return privateKeyJwt(secret ?? '', connection.privateKeyId);
      case 'apple':
        return oauth.ClientSecretPost(
          await deps.appleSecrets.secret({
            cacheKey: `${connection.id}@${connection.updatedAt.getTime()}`,
            teamId: connection.options.teamId ?? '',
            keyId: connection.options.keyId ?? '',
            clientId: connection.clientId,
            privateKey: secret ?? '',
            audience: settings.issuer,
          }),
        );
    }
  }

  /** The upstream's server metadata: discovered (OIDC), or written from the connection's URLs (OAuth 2), cached per connection version. */
  async function serverConfiguration(target: UpstreamTarget): Promise<oauth.Configuration> {
    const { connection, settings } = target;
    const version = connection.updatedAt.toISOString();
    const cached = metadata.get(connection.id);
    if (cached && cached.version === version && cached.expiresAt > now()) return cached.server;
    const insecure = isInsecureLoopback(settings.issuer);
    let server: oauth.Configuration;
    if (settings.kind === 'oidc') {
      server = await oauth.discovery(new URL(settings.issuer), connection.clientId, undefined, undefined, {
        [oauth.customFetch]: boundedFetch,
        execute: insecure ? [oauth.allowInsecureRequests] : [],
      });
    } else {
      server = new oauth.Configuration({ issuer: settings.issuer }, connection.clientId);
    }
    metadata.set(connection.id, { version, server, expiresAt: now() + METADATA_TTL_MS });
    return server;
  }

  /** A Configuration for one exchange: the server's metadata with the admin's URL overrides, and this moment's client authentication. */
  async function configuration(target: UpstreamTarget): Promise<oauth.Configuration> {
    const { connection, settings } = target;
    const server = await serverConfiguration(target);
    const discovered = server.serverMetadata();
    const overrides = Object.fromEntries(
      Object.entries({
        authorization_endpoint: settings.authorizationEndpoint,
        token_endpoint: settings.tokenEndpoint,
        userinfo_endpoint: settings.userinfoEndpoint,
      }).filter(([, value]) => value !== undefined),
    );
    const auth = await clientAuth(target);
    // Entra's multi-tenant issuer check lives on the discovered Configuration; with nothing
    // overridden and a fixed secret, that one is used as is.
    const config =
      Object.keys(overrides).length === 0 && settings.kind === 'oidc' && settings.clientAuth !== 'apple'
        ? await oauth.discovery(new URL(settings.issuer), connection.clientId, undefined, auth, {
            [oauth.customFetch]: cachedDiscoveryFetch(discovered),
            execute: isInsecureLoopback(settings.issuer) ? [oauth.allowInsecureRequests] : [],
          })
        : new oauth.Configuration({ ...discovered, ...overrides }, connection.clientId, undefined, auth);
    config[oauth.customFetch] = boundedFetch;
    config.timeout = Math.ceil(deps.timeoutMs / 1000);
    const endpoints = [
      settings.issuer,
      ...Object.values(overrides),
      discovered.token_endpoint ?? '',
      discovered.jwks_uri ?? '',
    ];
    if (endpoints.some((url) => url && isInsecureLoopback(url))) oauth.allowInsecureRequests(config);
    return config;
  }

  return {
    async authorizationUrl(target: UpstreamTarget, request: AuthorizationRequest): Promise<URL> {
      try {
        const config = await configuration(target);
        const { settings } = target;
        const params: Record<string, string> = {
          ...settings.authorizationParams,
          redirect_uri: request.redirectUri,
          scope: settings.scopes.join(' '),
          state: request.state,
          code_challenge: request.codeChallenge,
          code_challenge_method: 'S256',
        };
        if (settings.kind === 'oidc') params.nonce = request.nonce;
        if (settings.responseMode === 'form_post') params.response_mode = 'form_post';
        if (request.loginHint) params.login_hint = request.loginHint;
        return oauth.buildAuthorizationUrl(config, params);
      } catch (error) {
        throw classifyUpstreamError(error);
      }
    },

    /** The callback checked and the code exchanged; the claims the upstream vouched for. */
    async exchange(target: UpstreamTarget, checks: CallbackChecks): Promise<Exchanged> {
      try {
        const config = await configuration(target);
        const { settings } = target;
        const current = new URL(checks.redirectUri);
        for (const [name, value] of Object.entries(checks.params)) current.searchParams.set(name, value);
        const oidc = settings.kind === 'oidc';
        const tokens = await oauth.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: checks.verifier,
          expectedState: checks.state,
          expectedNonce: oidc ? checks.nonce : undefined,
          idTokenExpected: oidc,
        });
        if (oidc) {
          const idClaims: UpstreamClaims = tokens.claims() ?? {};
          const userinfoEndpoint = config.serverMetadata().userinfo_endpoint;
          const userinfo =
            userinfoEndpoint && typeof idClaims.sub === 'string'
              ? await oauth.fetchUserInfo(config, tokens.access_token, idClaims.sub)
              : {};
          return { claims: { ...userinfo, ...idClaims }, idToken: tokens.id_token };
        }
        const profile = await readJson(config, tokens.access_token, settings.userinfoEndpoint ?? '');
        if (settings.profile !== 'github') return { claims: profile, idToken: undefined };
        const email = await githubEmail(config, tokens.access_token, settings.emailsEndpoint ?? '');
        return { claims: { ...profile, ...email }, idToken: undefined };
      } catch (error) {
        throw classifyUpstreamError(error);
      }
    },

    /**
     * The upstream's end_session_endpoint with the sign-in's ID token as `id_token_hint`
     * (openid-client's buildEndSessionUrl adds `client_id`); null for an OAuth 2 upstream or
     * an OpenID one whose metadata names no end_session_endpoint.
     */
    async endSessionUrl(target: UpstreamTarget, request: EndSessionRequest): Promise<URL | null> {
      if (target.settings.kind !== 'oidc') return null;
      try {
        const config = await configuration(target);
        if (!config.serverMetadata().end_session_endpoint) return null;
        return oauth.buildEndSessionUrl(config, {
          id_token_hint: request.idToken,
          post_logout_redirect_uri: request.postLogoutRedirectUri,
          state: request.state,
        });
      } catch (error) {
        throw classifyUpstreamError(error);
      }
    },
  };
}

/** Serves the metadata already discovered, so a Configuration with this moment's client auth costs no request. */
function cachedDiscoveryFetch(discovered: oauth.ServerMetadata): oauth.CustomFetch {
  return async () =>
    new Response(JSON.stringify(discovered), { status: 200, headers: { 'content-type': 'application/json' } });
}

async function readJson(
  config: oauth.Configuration,
  accessToken: string,
  url: string,
): Promise<Record<string, unknown>> {
  const headers = new Headers({ accept: 'application/json', 'user-agent': 'Gatehouse' });
  const response = await oauth.fetchProtectedResource(config, accessToken, new URL(url), 'GET', undefined, headers);
  if (!response.ok)
    throw new FederationError('upstream_error', `the upstream's profile endpoint answered ${response.status}`);
  const body: unknown = await response.json().catch(() => null);
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new FederationError('upstream_error', "the upstream's profile is not a JSON object");
  return body as Record<string, unknown>;
}

/**
 * GitHub's /user shows only a public address, verified or not; /user/emails says which is the
 * primary one and whether GitHub verified it. Only a verified primary address counts.
 */
async function githubEmail(
  config: oauth.Configuration,
  accessToken: string,
  url: string,
): Promise<{ email: string | null; email_verified: boolean }> {
  const headers = new Headers({ accept: 'application/json', 'user-agent': 'Gatehouse' });
  const response = await oauth.fetchProtectedResource(config, accessToken, new URL(url), 'GET', undefined, headers);
  if (!response.ok) throw new FederationError('upstream_error', `GitHub's email endpoint answered ${response.status}`);
  const body: unknown = await response.json().catch(() => null);
  const list = Array.isArray(body) ? (body as Array<{ email?: unknown; primary?: unknown; verified?: unknown }>) : [];
  const primary = list.find((entry) => entry.primary === true && typeof entry.email === 'string');
  if (!primary) return { email: null, email_verified: false };
  return { email: primary.email as string, email_verified: primary.verified === true };
}

export type Upstreams = ReturnType<typeof createUpstreams>;
