import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { UserAgent } from '../../helpers/user-agent.js';
import { discoverRp, oidc, redeemCode } from '../../helpers/rp.js';
import { authorize, introspect, oauthFailure, postToken } from '../../helpers/tokens.js';

/** PKCE is required of every client, S256 only (RFC 9700 §2.1.1, RFC 7636). */
describe.each(HTTP_BACKENDS)('PKCE (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  /** Sends an authorization request with exactly these parameters and returns the OP's error redirect. */
  async function authorizationError(params: Record<string, string>) {
    const client = await server.buildClient();
    const rp = await discoverRp(server.issuer, client);
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: client.redirectUri, scope: 'openid', state, ...params });
    const page = await new UserAgent(server.issuer).get(url.toString());
    expect(page.status).toBeGreaterThanOrEqual(300);
    expect(page.status).toBeLessThan(400);
    expect(page.location).not.toBeNull();
    const location = new URL(page.location ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(client.redirectUri);
    expect(location.searchParams.get('state')).toBe(state);
    expect(location.searchParams.get('code')).toBeNull();
    return { error: location.searchParams.get('error'), description: location.searchParams.get('error_description') };
  }

  it('completes the flow with an S256 challenge and the matching verifier', async () => {
    const { rp, callbackUrl, request, user } = await authorize(server);
    const tokens = await redeemCode(rp, callbackUrl, request);
    expect(await introspect(rp, tokens.access_token)).toMatchObject({ active: true, sub: user.id });
  });

  it('refuses an authorization request without code_challenge (invalid_request)', async () => {
    expect(await authorizationError({})).toMatchObject({
      error: 'invalid_request',
      description: expect.stringContaining('PKCE'),
    });
  });

  it('refuses code_challenge_method=plain (invalid_request)', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    expect(await authorizationError({ code_challenge: verifier, code_challenge_method: 'plain' })).toMatchObject({
      error: 'invalid_request',
      description: expect.stringContaining('code_challenge_method'),
    });
  });

  it('refuses a code_challenge without code_challenge_method (the plain default) with invalid_request', async () => {
    const challenge = await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());
    expect(await authorizationError({ code_challenge: challenge })).toMatchObject({ error: 'invalid_request' });
  });

  it('refuses a wrong code_verifier at the token endpoint with invalid_grant, and the code stays unused', async () => {
    const { rp, callbackUrl, request } = await authorize(server);
    const wrong = { ...request, codeVerifier: oidc.randomPKCECodeVerifier() };
    expect(await oauthFailure(redeemCode(rp, callbackUrl, wrong))).toEqual({ status: 400, error: 'invalid_grant' });

    // A failed PKCE check does not consume the code: the legitimate client can still redeem it.
    const tokens = await redeemCode(rp, callbackUrl, request);
    expect(await introspect(rp, tokens.access_token)).toMatchObject({ active: true });
  });

  it('refuses a token request without code_verifier', async () => {
    const { rp, client, code } = await authorize(server);
    const res = await postToken(rp, client, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
    });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(res.body.access_token).toBeUndefined();
  });

  it('refuses a malformed code_verifier (too short for RFC 7636 §4.1)', async () => {
    const { rp, client, code } = await authorize(server);
    const res = await postToken(rp, client, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      code_verifier: 'short',
    });
    expect(res).toEqual({
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: 'code_verifier must be a string with a minimum length of 43 characters',
      },
    });
  });
});
