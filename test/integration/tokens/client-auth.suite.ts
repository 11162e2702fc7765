import { exportJWK, generateKeyPair } from 'jose';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { discoverRp, oidc, redeemCode } from '../../helpers/rp.js';
import { authorize, basicAuthorization, introspect, oauthFailure, postTokenRaw, signIn } from '../../helpers/tokens.js';

async function signingKey() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk: { ...jwk, kid: `k-${Math.random().toString(36).slice(2)}`, alg: 'ES256', use: 'sig' } };
}

describe.each(HTTP_BACKENDS)('client authentication at the token endpoint (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  describe('client_secret_basic', () => {
    it('authenticates with the secret in the Authorization header', async () => {
      const client = await server.buildClient();
      expect(client.clientSecret).toEqual(expect.any(String));
      const { tokens, user, rp } = await signIn(server, {
        client,
        rp: await discoverRp(server.issuer, client, oidc.ClientSecretBasic(client.clientSecret ?? '')),
      });
      expect(await introspect(rp, tokens.access_token)).toMatchObject({
        active: true,
        sub: user.id,
        client_id: client.clientId,
      });
    });

    it('answers 401 invalid_client for a wrong secret and does not consume the code', async () => {
      const client = await server.buildClient();
      const { callbackUrl, request, rp } = await authorize(server, { client });
      const wrongRp = await discoverRp(server.issuer, client, oidc.ClientSecretBasic(`${client.clientSecret}x`));
      expect(await oauthFailure(redeemCode(wrongRp, callbackUrl, request))).toEqual({
        status: 401,
        error: 'invalid_client',
      });

      const tokens = await redeemCode(rp, callbackUrl, request);
      expect(tokens.access_token).toEqual(expect.any(String));
    });

    it("answers 401 invalid_client for another client's valid secret", async () => {
      const client = await server.buildClient();
      const other = await server.buildClient();
      const { callbackUrl, request } = await authorize(server, { client });
      const mixedRp = await discoverRp(server.issuer, client, oidc.ClientSecretBasic(other.clientSecret ?? ''));
      expect(await oauthFailure(redeemCode(mixedRp, callbackUrl, request))).toEqual({
        status: 401,
        error: 'invalid_client',
      });
    });

    it('refuses a request that authenticates twice, in the header and in the body (invalid_request)', async () => {
      const client = await server.buildClient();
      const { code, request, rp } = await authorize(server, { client });
      const secret = client.clientSecret ?? '';
      const res = await postTokenRaw(
        rp,
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: client.redirectUri,
          code_verifier: request.codeVerifier,
          client_id: client.clientId,
          client_secret: secret,
        },
        { authorization: basicAuthorization(client.clientId, secret) },
      );
      expect(res).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
      expect(res.body.access_token).toBeUndefined();
    });
  });

  describe('client_secret_post', () => {
    it('authenticates with client_id and client_secret in the body', async () => {
      const client = await server.buildClient({ authMethod: 'client_secret_post' });
      const rp = await discoverRp(server.issuer, client, oidc.ClientSecretPost(client.clientSecret ?? ''));
      const { tokens, user } = await signIn(server, { client, rp });
      expect(await introspect(rp, tokens.access_token)).toMatchObject({
        active: true,
        sub: user.id,
        client_id: client.clientId,
      });
    });

    it('answers 401 invalid_client for a wrong secret in the body', async () => {
      const client = await server.buildClient({ authMethod: 'client_secret_post' });
      const rp = await discoverRp(server.issuer, client, oidc.ClientSecretPost(client.clientSecret ?? ''));
      const { callbackUrl, request } = await authorize(server, { client, rp });
      const wrongRp = await discoverRp(server.issuer, client, oidc.ClientSecretPost('not-the-secret'));
      expect(await oauthFailure(redeemCode(wrongRp, callbackUrl, request))).toEqual({
        status: 401,
        error: 'invalid_client',
      });
    });

    it('answers 401 invalid_client when the secret is left out', async () => {
      const client = await server.buildClient({ authMethod: 'client_secret_post' });
      const rp = await discoverRp(server.issuer, client, oidc.ClientSecretPost(client.clientSecret ?? ''));
      const { code, request } = await authorize(server, { client, rp });
      const res = await postTokenRaw(rp, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: client.redirectUri,
        code_verifier: request.codeVerifier,
        client_id: client.clientId,
      });
      expect(res).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    });
  });

  // The client's public keys are registered inline (jwks) here; keys at a jwks_uri (https on
  // loopback) are test/integration/flows/par-jar-fapi.test.ts's.
  describe('private_key_jwt', () => {
    let key: Awaited<ReturnType<typeof signingKey>>;
    let jwks: { keys: Array<Record<string, unknown>> };
    beforeAll(async () => {
      key = await signingKey();
      jwks = { keys: [key.jwk] };
    });

    it("authenticates with a JWT signed by one of the client's registered keys", async () => {
      const client = await server.buildClient({ authMethod: 'private_key_jwt', jwks });
      expect(client.clientSecret).toBeNull();
      const rp = await discoverRp(server.issuer, client, oidc.PrivateKeyJwt(key.privateKey));
      const { tokens, user } = await signIn(server, { client, rp });
      expect(await introspect(rp, tokens.access_token)).toMatchObject({
        active: true,
        sub: user.id,
        client_id: client.clientId,
      });
    });

    it('answers 401 invalid_client for a JWT signed by a key that is not published', async () => {
      const client = await server.buildClient({ authMethod: 'private_key_jwt', jwks });
      const rp = await discoverRp(server.issuer, client, oidc.PrivateKeyJwt(key.privateKey));
      const { callbackUrl, request } = await authorize(server, { client, rp });
      const stranger = await signingKey();
      const strangerRp = await discoverRp(
        server.issuer,
        client,
        oidc.PrivateKeyJwt(stranger.privateKey, {
          [oidc.modifyAssertion]: (header) => {
            header.kid = key.jwk.kid;
          },
        }),
      );
      expect(await oauthFailure(redeemCode(strangerRp, callbackUrl, request))).toEqual({
        status: 401,
        error: 'invalid_client',
      });
    });

    it('answers 401 invalid_client for a client secret from a private_key_jwt client', async () => {
      const client = await server.buildClient({ authMethod: 'private_key_jwt', jwks });
      const rp = await discoverRp(server.issuer, client, oidc.PrivateKeyJwt(key.privateKey));
      const { callbackUrl, request } = await authorize(server, { client, rp });
      const secretRp = await discoverRp(server.issuer, client, oidc.ClientSecretBasic('guessed-secret'));
      expect(await oauthFailure(redeemCode(secretRp, callbackUrl, request))).toEqual({
        status: 401,
        error: 'invalid_client',
      });
    });
  });

  describe('public clients (none)', () => {
    it('redeems a code with PKCE and no client authentication', async () => {
      const client = await server.buildClient({ public: true, authMethod: 'none' });
      expect(client.clientSecret).toBeNull();
      const rp = await discoverRp(server.issuer, client, oidc.None());
      const { tokens, user } = await signIn(server, { client, rp });
      expect(tokens.claims()).toMatchObject({ sub: user.id, aud: client.clientId });
      const info = await oidc.fetchUserInfo(rp, tokens.access_token, user.id);
      expect(info.sub).toBe(user.id);
    });

    it('refuses a public client that presents a secret', async () => {
      const client = await server.buildClient({ public: true, authMethod: 'none' });
      const rp = await discoverRp(server.issuer, client, oidc.None());
      const { callbackUrl, request } = await authorize(server, { client, rp });
      const secretRp = await discoverRp(server.issuer, client, oidc.ClientSecretBasic('anything'));
      expect(await oauthFailure(redeemCode(secretRp, callbackUrl, request))).toEqual({
        status: 401,
        error: 'invalid_client',
      });
    });

    it('refuses a public client registered with a secret-based method', async () => {
      await expect(server.buildClient({ public: true, authMethod: 'client_secret_basic' })).rejects.toMatchObject({
        name: 'InvalidInputError',
        field: 'token_endpoint_auth_method',
      });
    });
  });
});
