import type { TestServer } from '../../helpers/server.js';
import { authorizeIn, type RawResponse } from '../../helpers/tokens.js';
import { discoverRp, oidc, redeemCode } from '../../helpers/rp.js';
import { UserAgent, type FlowTrace } from '../../helpers/user-agent.js';

export const REDIRECT_URI = 'http://127.0.0.1:9999/callback';

/** A registration as an application would send it. */
export function webClient(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_name: 'Registered RP',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: 'openid profile email offline_access',
    ...overrides,
  };
}

async function asRaw(res: Response): Promise<RawResponse> {
  const text = await res.text();
  if (!text) return { status: res.status, body: {} };
  try {
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: res.status, body: { raw: text } };
  }
}

/** A raw RFC 7591 registration request, to see every status and error body. */
export async function register(
  server: TestServer,
  metadata: Record<string, unknown>,
  token?: string,
): Promise<RawResponse> {
  const res = await fetch(`${server.issuer}/reg`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(metadata),
  });
  return asRaw(res);
}

/** An RFC 7592 request to a client configuration endpoint with a registration access token. */
export async function manage(
  uri: string,
  token: string,
  method: 'GET' | 'PUT' | 'DELETE',
  body?: Record<string, unknown>,
): Promise<RawResponse> {
  const res = await fetch(uri, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return asRaw(res);
}

export function str(value: unknown): string {
  if (typeof value !== 'string' || !value) throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
}

/** A new initial access token from the admin service. */
export async function initialAccessToken(
  server: TestServer,
  input: { ttlSeconds?: number; note?: string } = {},
): Promise<string> {
  return (await server.gatehouse.registration.initialAccessTokens.create(input)).token;
}

/** The stored row of a client (what the adapter wrote). */
export function clientRow(server: TestServer, clientId: string) {
  return server.gatehouse.storage.storage.clients.find(clientId);
}

export interface RegisteredSignIn {
  trace: FlowTrace;
  tokens: Awaited<ReturnType<typeof redeemCode>>;
}

/** A real code + PKCE sign-in by a new user with a registered (third-party) client. */
export async function signInWithRegistered(
  server: TestServer,
  clientId: string,
  clientSecret: string,
): Promise<RegisteredSignIn> {
  const user = await server.buildUser();
  const rp = await discoverRp(server.issuer, { clientId, clientSecret }, oidc.ClientSecretBasic(clientSecret));
  const { request, trace } = await authorizeIn(
    new UserAgent(server.issuer),
    { config: rp, client: { redirectUri: REDIRECT_URI } },
    user,
    {},
    { consent: 'allow' },
  );
  return { trace, tokens: await redeemCode(rp, trace.callbackUrl, request) };
}
