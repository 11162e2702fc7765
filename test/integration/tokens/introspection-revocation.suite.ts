import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { discoverRp, oidc } from '../../helpers/rp.js';
import { OFFLINE, basicAuthorization, introspect, oauthFailure, refreshTokenOf, signIn } from '../../helpers/tokens.js';

/** A revocation POST without openid-client, to see the status, headers and bytes as sent. */
async function postRevocation(rp: oidc.Configuration, form: Record<string, string>, headers: Record<string, string>) {
  const endpoint = rp.serverMetadata().revocation_endpoint ?? '';
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

/** RFC 7662 introspection and RFC 7009 revocation, called as openid-client does. */
describe.each(HTTP_BACKENDS)('introspection and revocation (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  describe('introspection', () => {
    it('describes a live access token: active, subject, client and scope', async () => {
      const { tokens, rp, user, client } = await signIn(server, { params: { scope: 'openid email' } });
      const info = await introspect(rp, tokens.access_token);
      expect(info).toMatchObject({
        active: true,
        sub: user.id,
        client_id: client.clientId,
        token_type: 'Bearer',
        iss: server.issuer,
      });
      expect(info.scope?.split(' ').sort()).toEqual(['email', 'openid']);
      const now = Math.floor(Date.now() / 1000);
      expect(info.exp).toBeGreaterThan(now);
      expect(info.iat).toBeLessThanOrEqual(now + 1);
    });

    it('answers active:false, and nothing else, for a token it never issued', async () => {
      const { rp } = await signIn(server);
      expect(await introspect(rp, randomBytes(32).toString('base64url'))).toEqual({ active: false });
      expect(await introspect(rp, 'not a token at all')).toEqual({ active: false });
    });

    it('does not describe an ID token, which is not an access or refresh token', async () => {
      const { rp, tokens } = await signIn(server);
      expect(tokens.id_token).toEqual(expect.any(String));
      // oidc-provider refuses anything shaped like a JWT with unsupported_token_type instead
      // of RFC 7662 §2.2's active:false (lib/actions/introspection.js); either way no claims leak.
      expect(await oauthFailure(introspect(rp, tokens.id_token ?? ''))).toEqual({
        status: 400,
        error: 'unsupported_token_type',
      });
    });

    it('answers 401 invalid_client to a caller with a wrong secret', async () => {
      const { tokens, client } = await signIn(server);
      const wrongRp = await discoverRp(server.issuer, client, oidc.ClientSecretBasic('wrong'));
      expect(await oauthFailure(introspect(wrongRp, tokens.access_token))).toEqual({
        status: 401,
        error: 'invalid_client',
      });
    });

    it("answers active:false when a public client asks about another client's token", async () => {
      const { tokens } = await signIn(server);
      const spa = await server.buildClient({ public: true, authMethod: 'none' });
      const spaRp = await discoverRp(server.issuer, spa, oidc.None());
      expect(await introspect(spaRp, tokens.access_token)).toEqual({ active: false });
    });

    it('answers active:false when another confidential client asks about a token it was not issued', async () => {
      const { tokens } = await signIn(server);
      const other = await server.buildClient();
      const otherRp = await discoverRp(server.issuer, other);
      expect(await introspect(otherRp, tokens.access_token)).toEqual({ active: false });
    });
  });

  describe('revocation', () => {
    it('revokes an access token: introspection then answers active:false and userinfo refuses it', async () => {
      const { tokens, rp, user } = await signIn(server);
      expect(await introspect(rp, tokens.access_token)).toMatchObject({ active: true });

      await oidc.tokenRevocation(rp, tokens.access_token);

      expect(await introspect(rp, tokens.access_token)).toEqual({ active: false });
      await expect(oidc.fetchUserInfo(rp, tokens.access_token, user.id)).rejects.toBeInstanceOf(
        oidc.WWWAuthenticateChallengeError,
      );
    });

    it('revokes a refresh token and with it the grant: its access tokens and refreshes stop working', async () => {
      const { tokens, rp } = await signIn(server, { params: OFFLINE });
      const refreshToken = refreshTokenOf(tokens);

      await oidc.tokenRevocation(rp, refreshToken, { token_type_hint: 'refresh_token' });

      expect(await introspect(rp, refreshToken)).toEqual({ active: false });
      expect(await introspect(rp, tokens.access_token)).toEqual({ active: false });
      expect(await oauthFailure(oidc.refreshTokenGrant(rp, refreshToken))).toEqual({
        status: 400,
        error: 'invalid_grant',
      });
    });

    it('answers 200 for a token it never issued (RFC 7009 §2.2)', async () => {
      const { rp } = await signIn(server);
      await expect(oidc.tokenRevocation(rp, randomBytes(32).toString('base64url'))).resolves.toBeUndefined();
    });

    it('does not let another client revoke a token', async () => {
      const { tokens, rp } = await signIn(server);
      const other = await server.buildClient();
      const otherRp = await discoverRp(server.issuer, other);
      // RFC 7009 §2.1: the server checks the token was issued to the client asking.
      expect(await oauthFailure(oidc.tokenRevocation(otherRp, tokens.access_token))).toEqual({
        status: 400,
        error: 'invalid_request',
      });
      expect(await introspect(rp, tokens.access_token)).toMatchObject({ active: true });
    });

    // oidc-client-ts refuses a revocation answer whose Content-Type is not JSON (its issue
    // #2272); oidc-provider's own answer is an empty text/plain body.
    it('answers a revocation with 200 application/json {}, for a live token and for an unknown one', async () => {
      const { tokens, rp, client } = await signIn(server);
      const auth = { authorization: basicAuthorization(client.clientId, client.clientSecret ?? '') };
      for (const token of [tokens.access_token, randomBytes(32).toString('base64url')]) {
        const res = await postRevocation(rp, { token }, auth);
        expect(res).toEqual({ status: 200, contentType: expect.stringMatching(/^application\/json(;|$)/), body: '{}' });
      }
      expect(await introspect(rp, tokens.access_token)).toEqual({ active: false });
    });

    it('keeps a refused revocation an OAuth JSON error, not the empty success', async () => {
      const { tokens, rp, client } = await signIn(server);
      const res = await postRevocation(
        rp,
        { token: tokens.access_token },
        { authorization: basicAuthorization(client.clientId, 'wrong') },
      );
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_client' });
      const missing = await postRevocation(
        rp,
        {},
        { authorization: basicAuthorization(client.clientId, client.clientSecret ?? '') },
      );
      expect(missing.status).toBe(400);
      expect(JSON.parse(missing.body)).toMatchObject({ error: 'invalid_request' });
    });

    it('answers 401 invalid_client to a revocation with a wrong secret, and the token survives', async () => {
      const { tokens, rp, client } = await signIn(server);
      const wrongRp = await discoverRp(server.issuer, client, oidc.ClientSecretBasic('wrong'));
      expect(await oauthFailure(oidc.tokenRevocation(wrongRp, tokens.access_token))).toEqual({
        status: 401,
        error: 'invalid_client',
      });
      expect(await introspect(rp, tokens.access_token)).toMatchObject({ active: true });
    });
  });

  // RFC 8414 §2: without these entries a client may assume client_secret_basic only.
  describe('client authentication methods in discovery', () => {
    it('names the same methods for introspection and revocation as for the token endpoint, with signing algorithms', async () => {
      const { rp } = await signIn(server);
      const doc = rp.serverMetadata();
      expect(doc.token_endpoint_auth_methods_supported).toEqual(
        expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt']),
      );
      expect(doc.introspection_endpoint_auth_methods_supported).toEqual(doc.token_endpoint_auth_methods_supported);
      expect(doc.revocation_endpoint_auth_methods_supported).toEqual(doc.token_endpoint_auth_methods_supported);
      // Required when private_key_jwt is listed (RFC 8414 §2).
      expect(doc.introspection_endpoint_auth_signing_alg_values_supported).toEqual(
        doc.token_endpoint_auth_signing_alg_values_supported,
      );
      expect(doc.revocation_endpoint_auth_signing_alg_values_supported).toEqual(
        doc.token_endpoint_auth_signing_alg_values_supported,
      );
    });

    it('accepts client_secret_post and private_key_jwt at introspection and revocation, as advertised', async () => {
      const postClient = await server.buildClient({ authMethod: 'client_secret_post' });
      const postRp = await discoverRp(server.issuer, postClient, oidc.ClientSecretPost(postClient.clientSecret ?? ''));
      const posted = await signIn(server, { client: postClient, rp: postRp });
      expect(await introspect(postRp, posted.tokens.access_token)).toMatchObject({
        active: true,
        client_id: postClient.clientId,
      });
      await oidc.tokenRevocation(postRp, posted.tokens.access_token);
      expect(await introspect(postRp, posted.tokens.access_token)).toEqual({ active: false });

      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), kid: 'introspection-key', alg: 'ES256', use: 'sig' };
      const jwtClient = await server.buildClient({ authMethod: 'private_key_jwt', jwks: { keys: [jwk] } });
      const jwtRp = await discoverRp(server.issuer, jwtClient, oidc.PrivateKeyJwt(privateKey));
      const signed = await signIn(server, { client: jwtClient, rp: jwtRp });
      expect(await introspect(jwtRp, signed.tokens.access_token)).toMatchObject({
        active: true,
        client_id: jwtClient.clientId,
      });
      await oidc.tokenRevocation(jwtRp, signed.tokens.access_token);
      expect(await introspect(jwtRp, signed.tokens.access_token)).toEqual({ active: false });
    });

    it('refuses client_secret_jwt, which it does not advertise, at introspection and revocation', async () => {
      const { tokens, rp, client } = await signIn(server);
      expect(rp.serverMetadata().introspection_endpoint_auth_methods_supported).not.toContain('client_secret_jwt');
      const jwtRp = await discoverRp(server.issuer, client, oidc.ClientSecretJwt(client.clientSecret ?? ''));
      expect(await oauthFailure(introspect(jwtRp, tokens.access_token))).toEqual({
        status: 401,
        error: 'invalid_client',
      });
      expect(await oauthFailure(oidc.tokenRevocation(jwtRp, tokens.access_token))).toEqual({
        status: 401,
        error: 'invalid_client',
      });
      expect(await introspect(rp, tokens.access_token)).toMatchObject({ active: true });
    });
  });
});
