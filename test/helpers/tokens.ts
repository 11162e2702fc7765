import type { TestClient, TestUser } from './factories.js';
import type { TestServer } from './server.js';
import { UserAgent, runAuthorization, type FlowTrace, type SignInOptions as UserAgentSignIn } from './user-agent.js';
import { buildAuthRequest, discoverRp, oidc, redeemCode, type AuthRequest } from './rp.js';

/** What an RP asks for to get a refresh token: offline_access needs prompt=consent (OIDC Core §11). */
export const OFFLINE = { scope: 'openid profile email offline_access', prompt: 'consent' } as const;

export interface AuthorizedCode {
  user: TestUser;
  client: TestClient;
  rp: oidc.Configuration;
  request: AuthRequest;
  /** The RP's redirect URI with code, state and iss, as the browser delivered it. */
  callbackUrl: string;
  code: string;
  ua: UserAgent;
  /** The sign-in pages shown on the way, e.g. ['login'] or ['login', 'consent']. */
  pages: FlowTrace['pages'];
  trace: FlowTrace;
}

/** The answers on the pages of a sign-in, besides email and password. */
export type PageAnswers = Omit<UserAgentSignIn, 'email' | 'password'>;

export interface SignInOptions extends PageAnswers {
  user?: TestUser;
  client?: TestClient;
  rp?: oidc.Configuration;
  /** Extra or overriding authorization request parameters. */
  params?: Record<string, string>;
  /** The browser, with its cookies (a session from an earlier sign-in); a new one by default. */
  ua?: UserAgent;
}

/** Signs a user in through Gatehouse's pages and stops at the callback, before the code is redeemed. */
export async function authorize(server: TestServer, options: SignInOptions = {}): Promise<AuthorizedCode> {
  const { user: given, client: givenClient, rp: givenRp, params, ua: givenUa, ...answers } = options;
  const user = given ?? (await server.buildUser());
  const client = givenClient ?? (await server.buildClient());
  const rp = givenRp ?? (await discoverRp(server.issuer, client));
  const ua = givenUa ?? new UserAgent(server.issuer);
  const { request, trace, code } = await authorizeIn(ua, { config: rp, client }, user, params, answers);
  return { user, client, rp, request, callbackUrl: trace.callbackUrl, code, ua, pages: trace.pages, trace };
}

/**
 * The authorization half of the code flow in the browser `ua`: the RP's request (PKCE, state,
 * nonce), Gatehouse's pages, and the code at the RP's redirect URI. Every sign-in helper runs
 * this one (signIn here, the interaction helpers in sessions.ts, the registration suite's).
 */
export async function authorizeIn(
  ua: UserAgent,
  rp: { config: oidc.Configuration; client: Pick<TestClient, 'redirectUri'> },
  user: Pick<TestUser, 'email' | 'password'>,
  params: Record<string, string> = {},
  answers: PageAnswers = {},
): Promise<{ request: AuthRequest; trace: FlowTrace; code: string }> {
  const request = await buildAuthRequest(rp.config, rp.client.redirectUri, params);
  const trace = await runAuthorization(ua, request.url, rp.client.redirectUri, {
    email: user.email,
    password: user.password,
    ...answers,
  });
  const code = new URL(trace.callbackUrl).searchParams.get('code');
  if (!code) throw new Error(`no code in callback ${trace.callbackUrl}`);
  return { request, trace, code };
}

export type Tokens = Awaited<ReturnType<typeof redeemCode>>;

/** Signs in and redeems the code with openid-client: the whole code flow. */
export async function signIn(
  server: TestServer,
  options: SignInOptions = {},
): Promise<AuthorizedCode & { tokens: Tokens }> {
  const authorized = await authorize(server, options);
  const tokens = await redeemCode(authorized.rp, authorized.callbackUrl, authorized.request);
  return { ...authorized, tokens };
}

/** A refresh token is a string here, or the test fails. */
export function refreshTokenOf(tokens: { refresh_token?: string }): string {
  if (typeof tokens.refresh_token !== 'string' || tokens.refresh_token.length === 0) {
    throw new Error('no refresh_token in the token response');
  }
  return tokens.refresh_token;
}

export interface OAuthFailure {
  status: number;
  error: string;
}

/**
 * Awaits a call that must fail with an OAuth error response and returns its status and
 * code. openid-client reports a 401 with a WWW-Authenticate challenge as a
 * WWWAuthenticateChallengeError and any other error body as a ResponseBodyError.
 */
export async function oauthFailure(call: Promise<unknown>): Promise<OAuthFailure> {
  try {
    await call;
  } catch (caught) {
    if (caught instanceof oidc.ResponseBodyError) return { status: caught.status, error: caught.error };
    if (caught instanceof oidc.WWWAuthenticateChallengeError) {
      const body = caught.response.bodyUsed ? undefined : ((await caught.response.json()) as { error?: string });
      const challenge = caught.cause[0]?.parameters.error;
      return { status: caught.status, error: body?.error ?? challenge ?? '' };
    }
    throw caught;
  }
  throw new Error('expected an OAuth error response, got success');
}

export interface RawResponse {
  status: number;
  body: Record<string, unknown>;
}

/** A token endpoint answer, with the headers a retrying client reads (Retry-After). */
export interface RawTokenResponse extends RawResponse {
  headers: Headers;
}

/** RFC 6749 §2.3.1: client_id and secret are form-encoded before base64 in the Basic header. */
export function basicAuthorization(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** A token endpoint POST without openid-client, to see every status (for races and odd inputs). */
export async function postToken(
  rp: oidc.Configuration,
  client: Pick<TestClient, 'clientId' | 'clientSecret'>,
  form: Record<string, string>,
): Promise<RawResponse> {
  return withoutHeaders(await tokenRequest(rp, client, form));
}

/** A token endpoint POST with exactly this form and these headers (client authentication included). */
export async function postTokenRaw(
  rp: oidc.Configuration,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return withoutHeaders(await tokenRequestRaw(rp, form, headers));
}

function withoutHeaders({ status, body }: RawTokenResponse): RawResponse {
  return { status, body };
}

/** postToken's request, answered with its headers too. */
export async function tokenRequest(
  rp: oidc.Configuration,
  client: Pick<TestClient, 'clientId' | 'clientSecret'>,
  form: Record<string, string>,
): Promise<RawTokenResponse> {
  if (client.clientSecret) {
    return tokenRequestRaw(rp, form, { authorization: basicAuthorization(client.clientId, client.clientSecret) });
  }
  return tokenRequestRaw(rp, { ...form, client_id: client.clientId });
}

async function tokenRequestRaw(
  rp: oidc.Configuration,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<RawTokenResponse> {
  const endpoint = rp.serverMetadata().token_endpoint;
  if (!endpoint) throw new Error('no token_endpoint in discovery');
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
    body: new URLSearchParams(form),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, headers: res.headers };
  } catch {
    return { status: res.status, body: { raw: text }, headers: res.headers };
  }
}

/** Counts of each status and error code over a batch of raw responses. */
export function tally(responses: RawResponse[]): { statuses: Record<number, number>; errors: Record<string, number> } {
  const statuses: Record<number, number> = {};
  const errors: Record<string, number> = {};
  for (const { status, body } of responses) {
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (typeof body.error === 'string') errors[body.error] = (errors[body.error] ?? 0) + 1;
  }
  return { statuses, errors };
}

/** RFC 7662 introspection through openid-client, as a resource server would ask. */
export function introspect(rp: oidc.Configuration, token: string) {
  return oidc.tokenIntrospection(rp, token);
}

/** Decoded JOSE header of a compact JWS. */
export function jwsHeader(jws: string | undefined): Record<string, unknown> {
  const part = jws?.split('.')[0];
  if (!part) throw new Error('not a compact JWS');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}
