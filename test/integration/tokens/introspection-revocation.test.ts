import { randomBytes } from 'node:crypto';
import { BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { discoverRp, oidc } from '../../helpers/rp.js';
import { OFFLINE, introspect, oauthFailure, refreshTokenOf, signIn } from '../../helpers/tokens.js';

/** RFC 7662 introspection and RFC 7009 revocation, called as openid-client does. */
describe.each(BACKENDS)('introspection and revocation (%s)', (backend) => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer(backend); });
  afterAll(async () => { await server?.close(); });

  describe('introspection', () => {
    it('describes a live access token: active, subject, client and scope', async () => {
      const { tokens, rp, user, client } = await signIn(server, { params: { scope: 'openid email' } });
      const info = await introspect(rp, tokens.access_token);
      expect(info).toMatchObject({ active: true, sub: user.id, client_id: client.clientId, token_type: 'Bearer', iss: server.issuer });
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
      expect(await oauthFailure(introspect(rp, tokens.id_token ?? ''))).toEqual({ status: 400, error: 'unsupported_token_type' });
    });

    it('answers 401 invalid_client to a caller with a wrong secret', async () => {
      const { tokens, client } = await signIn(server);
      const wrongRp = await discoverRp(server.issuer, client, oidc.ClientSecretBasic('wrong'));
      expect(await oauthFailure(introspect(wrongRp, tokens.access_token))).toEqual({ status: 401, error: 'invalid_client' });
    });

    it('answers active:false when a public client asks about another client\'s token', async () => {
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
      await expect(oidc.fetchUserInfo(rp, tokens.access_token, user.id)).rejects.toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
    });

    it('revokes a refresh token and with it the grant: its access tokens and refreshes stop working', async () => {
      const { tokens, rp } = await signIn(server, { params: OFFLINE });
      const refreshToken = refreshTokenOf(tokens);

      await oidc.tokenRevocation(rp, refreshToken, { token_type_hint: 'refresh_token' });

      expect(await introspect(rp, refreshToken)).toEqual({ active: false });
      expect(await introspect(rp, tokens.access_token)).toEqual({ active: false });
      expect(await oauthFailure(oidc.refreshTokenGrant(rp, refreshToken))).toEqual({ status: 400, error: 'invalid_grant' });
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
      expect(await oauthFailure(oidc.tokenRevocation(otherRp, tokens.access_token))).toEqual({ status: 400, error: 'invalid_request' });
      expect(await introspect(rp, tokens.access_token)).toMatchObject({ active: true });
    });

    it('answers 401 invalid_client to a revocation with a wrong secret, and the token survives', async () => {
      const { tokens, rp, client } = await signIn(server);
      const wrongRp = await discoverRp(server.issuer, client, oidc.ClientSecretBasic('wrong'));
      expect(await oauthFailure(oidc.tokenRevocation(wrongRp, tokens.access_token))).toEqual({ status: 401, error: 'invalid_client' });
      expect(await introspect(rp, tokens.access_token)).toMatchObject({ active: true });
    });
  });
});
