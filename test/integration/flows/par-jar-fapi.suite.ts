import { exportJWK, generateKeyPair } from 'jose';
import { runSql } from '../../../src/storage/data-source.js';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { discoverRp, oidc } from '../../helpers/rp.js';
import { useSharedTestServer, useTestServer, type TestServer } from '../../helpers/server.js';
import { oauthFailure } from '../../helpers/tokens.js';
import { UserAgent, runAuthorization } from '../../helpers/user-agent.js';
import { serveJsonOverHttps } from '../../helpers/loopback-https.js';
import type { ClientInput } from '../../../src/clients/client-registry.js';

async function clientKey() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: `k-${Math.random().toString(36).slice(2)}`, alg: 'ES256' };
  return { privateKey, jwk, signing: { key: privateKey, kid: jwk.kid } };
}

/** A confidential client that authenticates and signs its requests with its own key (jwks inline). */
async function keyClient(server: TestServer, overrides: Partial<ClientInput> = {}) {
  const key = await clientKey();
  const client = await server.buildClient({ authMethod: 'private_key_jwt', jwks: { keys: [key.jwk] }, ...overrides });
  const rp = await discoverRp(server.issuer, client, oidc.PrivateKeyJwt(key.signing));
  return { client, rp, key };
}

/** The parameters of an authorization request, with the PKCE verifier, state and nonce to check the answer with. */
async function requestParams(redirectUri: string) {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const checks = {
    pkceCodeVerifier: codeVerifier,
    expectedState: oidc.randomState(),
    expectedNonce: oidc.randomNonce(),
  };
  const params = {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state: checks.expectedState,
    nonce: checks.expectedNonce,
  };
  return { params, checks };
}

/** What the browser gets for an authorization URL that Gatehouse refuses before any sign-in. */
async function refusal(server: TestServer, url: URL | string, redirectUri: string) {
  const page = await new UserAgent(server.issuer).get(url.toString());
  if (page.location?.startsWith(redirectUri)) {
    const answer = new URL(page.location).searchParams;
    return { status: page.status, error: answer.get('error'), description: answer.get('error_description') };
  }
  return { status: page.status, error: /data-error="([^"]+)"|code[^>]*>([a-z_]+)</.exec(page.html)?.[0] ?? page.html };
}

const discoveryOf = async (server: TestServer) =>
  (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;

describe.each(HTTP_BACKENDS)(
  'pushed authorization requests and signed request objects, RFC 9126 and 9101 (%s)',
  (backend) => {
    const server = useSharedTestServer(backend);

    it('advertises PAR, signed request objects only, and no request_uri of its own', async () => {
      const discovery = await discoveryOf(server);
      expect(discovery.pushed_authorization_request_endpoint).toBe(`${server.issuer}/request`);
      expect(discovery.require_pushed_authorization_requests).toBeUndefined();
      expect(discovery.request_parameter_supported).toBe(true);
      expect(discovery.request_uri_parameter_supported).toBe(false);
      expect(discovery.request_object_signing_alg_values_supported).toEqual(
        expect.not.arrayContaining(['none', 'HS256']),
      );
    });

    it('signs in through a pushed request, and refuses a plain one from a client that requires PAR', async () => {
      const user = await server.buildUser();
      const { client, rp } = await keyClient(server, { requirePushedAuthorizationRequests: true });
      const { params, checks } = await requestParams(client.redirectUri);

      expect(await refusal(server, oidc.buildAuthorizationUrl(rp, params), client.redirectUri)).toMatchObject({
        error: 'invalid_request',
        description: 'Pushed Authorization Request must be used',
      });

      const url = await oidc.buildAuthorizationUrlWithPAR(rp, params);
      expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
      const trace = await runAuthorization(new UserAgent(server.issuer), url.toString(), client.redirectUri, user);
      const tokens = await oidc.authorizationCodeGrant(rp, new URL(trace.callbackUrl), checks);
      expect(tokens.claims()?.sub).toBe(user.id);
    });

    it('takes a request object signed with the client key, pushed or in the URL', async () => {
      const user = await server.buildUser();
      const { client, rp, key } = await keyClient(server);
      const { params, checks } = await requestParams(client.redirectUri);
      const signed = await oidc.buildAuthorizationUrlWithJAR(rp, params, key.signing);
      const trace = await runAuthorization(new UserAgent(server.issuer), signed.toString(), client.redirectUri, user);
      expect((await oidc.authorizationCodeGrant(rp, new URL(trace.callbackUrl), checks)).claims()?.sub).toBe(user.id);

      const second = await requestParams(client.redirectUri);
      const request = (await oidc.buildAuthorizationUrlWithJAR(rp, second.params, key.signing)).searchParams.get(
        'request',
      );
      const pushed = await oidc.buildAuthorizationUrlWithPAR(rp, { request: request ?? '' });
      const again = await runAuthorization(new UserAgent(server.issuer), pushed.toString(), client.redirectUri, user);
      expect((await oidc.authorizationCodeGrant(rp, new URL(again.callbackUrl), second.checks)).claims()?.sub).toBe(
        user.id,
      );
    });

    it('refuses a tampered request object, one signed by another key, and an unsigned one', async () => {
      const { client, rp, key } = await keyClient(server);
      const { params } = await requestParams(client.redirectUri);
      const signed = await oidc.buildAuthorizationUrlWithJAR(rp, params, key.signing);
      const [header, payload, signature] = (signed.searchParams.get('request') ?? '').split('.');
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
      const tampered = Buffer.from(JSON.stringify({ ...claims, scope: 'openid profile email' })).toString('base64url');
      const withRequest = (request: string) => {
        const url = new URL(signed);
        url.searchParams.set('request', request);
        return url;
      };
      expect(
        await refusal(server, withRequest(`${header}.${tampered}.${signature}`), client.redirectUri),
      ).toMatchObject({
        error: 'invalid_request_object',
      });

      const stranger = await clientKey();
      const foreign = await oidc.buildAuthorizationUrlWithJAR(rp, params, stranger.signing);
      expect(await refusal(server, foreign, client.redirectUri)).toMatchObject({ error: 'invalid_request_object' });

      const none = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
      expect(await refusal(server, withRequest(`${none}.${payload}.`), client.redirectUri)).toMatchObject({
        error: 'invalid_request_object',
      });
    });

    it("verifies a request object against the keys at the client's jwks_uri", async () => {
      const user = await server.buildUser();
      const key = await clientKey();
      const jwksHost = await serveJsonOverHttps({ '/jwks.json': { keys: [key.jwk] } });
      try {
        const client = await server.buildClient({ authMethod: 'private_key_jwt', jwksUri: jwksHost.url('/jwks.json') });
        const rp = await discoverRp(server.issuer, client, oidc.PrivateKeyJwt(key.signing));
        const { params, checks } = await requestParams(client.redirectUri);
        const signed = await oidc.buildAuthorizationUrlWithJAR(rp, params, key.signing);
        const trace = await runAuthorization(new UserAgent(server.issuer), signed.toString(), client.redirectUri, user);
        expect((await oidc.authorizationCodeGrant(rp, new URL(trace.callbackUrl), checks)).claims()?.sub).toBe(user.id);

        // A key the jwks_uri does not publish signs nothing the provider takes.
        const stranger = await clientKey();
        const foreign = await oidc.buildAuthorizationUrlWithJAR(rp, params, stranger.signing);
        expect(await refusal(server, foreign, client.redirectUri)).toMatchObject({ error: 'invalid_request_object' });
      } finally {
        await jwksHost.close();
      }
    });

    it('takes a request_uri only from its own PAR endpoint, and each only once', async () => {
      const user = await server.buildUser();
      const { client, rp } = await keyClient(server);
      const elsewhere = new URL(`${server.issuer}/auth`);
      elsewhere.searchParams.set('client_id', client.clientId);
      elsewhere.searchParams.set('request_uri', 'https://rp.example.com/request.jwt');
      expect(await refusal(server, elsewhere, client.redirectUri)).toMatchObject({
        error: 'request_uri_not_supported',
      });

      const invented = new URL(elsewhere);
      invented.searchParams.set('request_uri', 'urn:ietf:params:oauth:request_uri:invented');
      expect(await refusal(server, invented, client.redirectUri)).toMatchObject({ error: 'invalid_request_uri' });

      const { params } = await requestParams(client.redirectUri);
      const pushed = await oidc.buildAuthorizationUrlWithPAR(rp, params);
      await runAuthorization(new UserAgent(server.issuer), pushed.toString(), client.redirectUri, user);
      expect(await refusal(server, pushed, client.redirectUri)).toMatchObject({ error: 'invalid_request_uri' });
    });
  },
);

describe.each(HTTP_BACKENDS)('the FAPI 2.0 Security Profile per client (%s)', (backend) => {
  // Longer codes for everyone else: a FAPI client's still live at most 60 seconds.
  const server = useTestServer(backend, { ttl: { authorizationCode: 300 } as never });

  it('is refused to a client that does not authenticate with private_key_jwt', async () => {
    await expect(server.buildClient({ fapi: true })).rejects.toMatchObject({ field: 'fapi' });
  });

  it('requires PAR and DPoP, and gives DPoP-bound tokens, iss in the response and a code of at most 60 s', async () => {
    const user = await server.buildUser();
    const { client, rp } = await keyClient(server, { fapi: true });
    const { params, checks } = await requestParams(client.redirectUri);

    expect(await refusal(server, oidc.buildAuthorizationUrl(rp, params), client.redirectUri)).toMatchObject({
      error: 'invalid_request',
      description: 'Pushed Authorization Request must be used',
    });

    const DPoP = oidc.getDPoPHandle(rp, await oidc.randomDPoPKeyPair('ES256'));
    const url = await oidc.buildAuthorizationUrlWithPAR(rp, params, { DPoP });
    const trace = await runAuthorization(new UserAgent(server.issuer), url.toString(), client.redirectUri, user);
    expect(new URL(trace.callbackUrl).searchParams.get('iss')).toBe(server.issuer);
    const { rows } = await runSql<{ seconds: number }>(
      server.gatehouse.storage.storage.dataSource,
      "SELECT extract(epoch FROM expires_at - now())::int AS seconds FROM oidc_payloads WHERE model = 'AuthorizationCode' AND payload->>'clientId' = $1",
      [client.clientId],
    );
    expect(rows[0]?.seconds).toBeLessThanOrEqual(60);

    const tokens = await oidc.authorizationCodeGrant(rp, new URL(trace.callbackUrl), checks, undefined, { DPoP });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
  });

  it('refuses its code without a DPoP proof', async () => {
    const user = await server.buildUser();
    const { client, rp } = await keyClient(server, { fapi: true });
    const { params, checks } = await requestParams(client.redirectUri);
    const url = await oidc.buildAuthorizationUrlWithPAR(rp, params);
    const trace = await runAuthorization(new UserAgent(server.issuer), url.toString(), client.redirectUri, user);
    expect(await oauthFailure(oidc.authorizationCodeGrant(rp, new URL(trace.callbackUrl), checks))).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
  });
});

describe.each(HTTP_BACKENDS)('PAR and request objects switched off (%s)', (backend) => {
  const server = useTestServer(backend, {
    flows: {
      pushedAuthorizationRequests: { enabled: false, requiredForAllClients: false },
      requestObjects: { enabled: false },
    },
  });

  it('advertises neither, and refuses a request object', async () => {
    const discovery = await discoveryOf(server);
    expect(discovery.pushed_authorization_request_endpoint).toBeUndefined();
    expect(discovery.request_parameter_supported).toBeUndefined();
    const { client, rp, key } = await keyClient(server);
    const { params } = await requestParams(client.redirectUri);
    const signed = await oidc.buildAuthorizationUrlWithJAR(rp, params, key.signing);
    expect(await refusal(server, signed, client.redirectUri)).toMatchObject({ error: 'request_not_supported' });
    expect((await fetch(`${server.issuer}/request`, { method: 'POST' })).status).toBe(404);
  });
});

describe.each(HTTP_BACKENDS)('FAPI 2.0 switched off (%s)', (backend) => {
  const server = useTestServer(backend, { flows: { fapi: { enabled: false } } });

  it('refuses a client marked FAPI rather than serving it without the profile', async () => {
    const { client, rp } = await keyClient(server, { fapi: true });
    const { params } = await requestParams(client.redirectUri);
    expect(await oauthFailure(oidc.buildAuthorizationUrlWithPAR(rp, params))).toEqual({
      status: 400,
      error: 'invalid_client_metadata',
    });
  });
});
