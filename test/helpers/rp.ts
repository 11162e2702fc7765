import * as oidc from 'openid-client';
import type { TestClient } from './factories.js';

/** A relying party built with openid-client, the way an application would use it. */
export async function discoverRp(
  issuer: string,
  client: Pick<TestClient, 'clientId' | 'clientSecret'>,
  auth?: oidc.ClientAuth,
): Promise<oidc.Configuration> {
  const clientAuth = auth ?? (client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None());
  return oidc.discovery(new URL(issuer), client.clientId, undefined, clientAuth, {
    execute: [oidc.allowInsecureRequests],
  });
}

export interface AuthRequest {
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export async function buildAuthRequest(
  config: oidc.Configuration,
  redirectUri: string,
  params: Record<string, string> = {},
): Promise<AuthRequest> {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url: url.toString(), state, nonce, codeVerifier };
}

export function redeemCode(config: oidc.Configuration, callbackUrl: string, request: AuthRequest) {
  return oidc.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier: request.codeVerifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
}

export { oidc };
