import { randomUUID } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { discoverRp, oidc, redeemCode } from '../../helpers/rp.js';
import { useSharedTestServer, useTestServer, type TestServer } from '../../helpers/server.js';
import { authorize, oauthFailure, refreshTokenOf } from '../../helpers/tokens.js';

/** A public client (an SPA, a native app): its tokens are worth only what its DPoP key is. */
const publicClient = (server: TestServer, overrides: { dpopBoundAccessTokens?: boolean } = {}) =>
  server.buildClient({ public: true, authMethod: 'none', ...overrides });

/** A code for `client`, signed in through the pages, ready to redeem with or without a proof. */
async function codeFor(server: TestServer, client: Awaited<ReturnType<typeof publicClient>>) {
  const rp = await discoverRp(server.issuer, client);
  return authorize(server, { client, rp, params: { scope: 'openid profile offline_access', prompt: 'consent' } });
}

/** The userinfo endpoint with the token as a plain bearer token, as a thief who has no key would send it. */
async function userinfoAsBearer(server: TestServer, accessToken: string): Promise<number> {
  const res = await fetch(`${server.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  return res.status;
}

describe.each(HTTP_BACKENDS)('DPoP, RFC 9449 (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  it('is advertised with its signing algorithms', async () => {
    const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256']));
  });

  it('binds the access token to the key: userinfo takes it with a proof of that key only', async () => {
    const client = await publicClient(server);
    const authorized = await codeFor(server, client);
    const key = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(authorized.rp, key);
    const tokens = await oidc.authorizationCodeGrant(
      authorized.rp,
      new URL(authorized.callbackUrl),
      {
        pkceCodeVerifier: authorized.request.codeVerifier,
        expectedState: authorized.request.state,
        expectedNonce: authorized.request.nonce,
      },
      undefined,
      { DPoP },
    );
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    const sub = authorized.user.id;
    expect((await oidc.fetchUserInfo(authorized.rp, tokens.access_token, sub, { DPoP })).sub).toBe(sub);

    // Without the key: as a bearer token, or with a proof from another key.
    expect(await userinfoAsBearer(server, tokens.access_token)).toBe(401);
    const other = oidc.getDPoPHandle(authorized.rp, await oidc.randomDPoPKeyPair('ES256'));
    expect(
      await oauthFailure(oidc.fetchUserInfo(authorized.rp, tokens.access_token, sub, { DPoP: other })),
    ).toMatchObject({ status: 401, error: 'invalid_token' });
  });

  it("binds a public client's refresh token: useless without its key, refused with another", async () => {
    const client = await publicClient(server);
    const authorized = await codeFor(server, client);
    const key = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(authorized.rp, key);
    const tokens = await oidc.authorizationCodeGrant(
      authorized.rp,
      new URL(authorized.callbackUrl),
      {
        pkceCodeVerifier: authorized.request.codeVerifier,
        expectedState: authorized.request.state,
        expectedNonce: authorized.request.nonce,
      },
      undefined,
      { DPoP },
    );
    const refreshToken = refreshTokenOf(tokens);

    expect(await oauthFailure(oidc.refreshTokenGrant(authorized.rp, refreshToken))).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
    const other = oidc.getDPoPHandle(authorized.rp, await oidc.randomDPoPKeyPair('ES256'));
    expect(await oauthFailure(oidc.refreshTokenGrant(authorized.rp, refreshToken, undefined, { DPoP: other }))).toEqual(
      { status: 400, error: 'invalid_grant' },
    );
    // Refused attempts did not spend it: the holder of the key refreshes.
    const refreshed = await oidc.refreshTokenGrant(authorized.rp, refreshToken, undefined, { DPoP });
    expect(refreshed.token_type.toLowerCase()).toBe('dpop');
    expect(await userinfoAsBearer(server, refreshed.access_token)).toBe(401);
  });

  it('lets a client without the requirement use plain bearer tokens', async () => {
    const client = await publicClient(server);
    const authorized = await codeFor(server, client);
    const tokens = await redeemCode(authorized.rp, authorized.callbackUrl, authorized.request);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(await userinfoAsBearer(server, tokens.access_token)).toBe(200);
  });

  it('refuses a client with dpop_bound_access_tokens its tokens without a proof', async () => {
    const client = await publicClient(server, { dpopBoundAccessTokens: true });
    const authorized = await codeFor(server, client);
    expect(await oauthFailure(redeemCode(authorized.rp, authorized.callbackUrl, authorized.request))).toEqual({
      status: 400,
      error: 'invalid_grant',
    });

    const again = await codeFor(server, client);
    const DPoP = oidc.getDPoPHandle(again.rp, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await oidc.authorizationCodeGrant(
      again.rp,
      new URL(again.callbackUrl),
      {
        pkceCodeVerifier: again.request.codeVerifier,
        expectedState: again.request.state,
        expectedNonce: again.request.nonce,
      },
      undefined,
      { DPoP },
    );
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
  });

  it('shows the binding at introspection: token_type DPoP and the key thumbprint in cnf', async () => {
    const client = await server.buildClient();
    const rp = await discoverRp(server.issuer, client);
    const authorized = await authorize(server, { client, rp });
    const key = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(rp, key);
    const tokens = await oidc.authorizationCodeGrant(
      rp,
      new URL(authorized.callbackUrl),
      {
        pkceCodeVerifier: authorized.request.codeVerifier,
        expectedState: authorized.request.state,
        expectedNonce: authorized.request.nonce,
      },
      undefined,
      { DPoP },
    );
    const introspected = await oidc.tokenIntrospection(rp, tokens.access_token);
    expect(introspected).toMatchObject({ active: true, token_type: 'DPoP' });
    const jkt = (introspected.cnf as { jkt?: unknown } | undefined)?.jkt;
    expect(jkt).toBe(await calculateJwkThumbprint(await exportJWK(key.publicKey)));
  });
});

/** A well-formed proof for the token endpoint that carries no nonce (RFC 9449 §4.2). */
async function proofWithoutNonce(server: TestServer): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return new SignJWT({ htm: 'POST', htu: `${server.issuer}/token`, jti: randomUUID() })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(publicKey) })
    .setIssuedAt()
    .sign(privateKey);
}

describe.each(HTTP_BACKENDS)('DPoP with server nonces (%s)', (backend) => {
  const server = useTestServer(backend, { flows: { dpop: { enabled: true, requireNonce: true } } });

  it('asks for a nonce (use_dpop_nonce) and accepts the proof that carries it', async () => {
    const client = await publicClient(server);
    const authorized = await codeFor(server, client);
    const DPoP = oidc.getDPoPHandle(authorized.rp, await oidc.randomDPoPKeyPair('ES256'));
    const first = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        dpop: await proofWithoutNonce(server),
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: client.clientId }),
    });
    expect(first.status).toBe(400);
    expect(((await first.json()) as { error?: string }).error).toBe('use_dpop_nonce');
    expect(first.headers.get('dpop-nonce')).toEqual(expect.any(String));

    // openid-client retries once with the nonce it was given.
    const tokens = await oidc.authorizationCodeGrant(
      authorized.rp,
      new URL(authorized.callbackUrl),
      {
        pkceCodeVerifier: authorized.request.codeVerifier,
        expectedState: authorized.request.state,
        expectedNonce: authorized.request.nonce,
      },
      undefined,
      { DPoP },
    );
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
  });
});

describe.each(HTTP_BACKENDS)('DPoP switched off (%s)', (backend) => {
  const server = useTestServer(backend, { flows: { dpop: { enabled: false, requireNonce: false } } });

  it('is not advertised, and tokens stay bearer tokens whatever the client sends', async () => {
    const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery.dpop_signing_alg_values_supported).toBeUndefined();
    const client = await publicClient(server);
    const authorized = await codeFor(server, client);
    const DPoP = oidc.getDPoPHandle(authorized.rp, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await oidc.authorizationCodeGrant(
      authorized.rp,
      new URL(authorized.callbackUrl),
      {
        pkceCodeVerifier: authorized.request.codeVerifier,
        expectedState: authorized.request.state,
        expectedNonce: authorized.request.nonce,
      },
      undefined,
      { DPoP },
    );
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
  });
});
