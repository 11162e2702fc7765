import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { discoverRp, oidc } from '../../helpers/rp.js';
import { InvalidInputError } from '../../../src/errors/domain-errors.js';
import { introspect, oauthFailure, postToken } from '../../helpers/tokens.js';

/** Machine-to-machine tokens (RFC 6749 §4.4): confidential clients only. */
describe.each(HTTP_BACKENDS)('client_credentials grant (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  const serviceClient = () =>
    server.buildClient({
      grantTypes: ['client_credentials'],
      redirectUris: [],
      postLogoutRedirectUris: [],
      scope: 'openid',
    });

  it('issues an access token to a confidential client, which introspects active and carries no subject', async () => {
    const client = await serviceClient();
    expect(client.clientSecret).toEqual(expect.any(String));
    const rp = await discoverRp(server.issuer, client);
    const tokens = await oidc.clientCredentialsGrant(rp);
    expect(tokens).toMatchObject({
      token_type: 'bearer',
      access_token: expect.any(String),
      expires_in: expect.any(Number),
    });
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.id_token).toBeUndefined();

    const info = await introspect(rp, tokens.access_token);
    expect(info).toMatchObject({ active: true, client_id: client.clientId, token_type: 'Bearer' });
    expect(info.sub).toBeUndefined();
  });

  it('answers 401 invalid_client for a wrong secret', async () => {
    const client = await serviceClient();
    const rp = await discoverRp(server.issuer, client, oidc.ClientSecretBasic('wrong-secret'));
    expect(await oauthFailure(oidc.clientCredentialsGrant(rp))).toEqual({ status: 401, error: 'invalid_client' });
  });

  it('refuses to register a public client with client_credentials', async () => {
    const attempt = server.buildClient({
      public: true,
      grantTypes: ['client_credentials'],
      redirectUris: [],
      scope: 'openid',
    });
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toMatchObject({ field: 'grant_types' });
  });

  it('refuses to register a client without any scope (the provider would reject its metadata on every request)', async () => {
    const attempt = server.buildClient({ grantTypes: ['client_credentials'], redirectUris: [], scope: ' ' });
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toMatchObject({ field: 'scope' });
  });

  it('refuses client_credentials to a client not registered for it', async () => {
    const client = await server.buildClient();
    const rp = await discoverRp(server.issuer, client);
    // RFC 6749 §5.2 names this unauthorized_client; oidc-provider 9 answers invalid_request
    // (lib/actions/token.js allowedGrantTypeCheck).
    expect(await oauthFailure(oidc.clientCredentialsGrant(rp))).toEqual({ status: 400, error: 'invalid_request' });
    const res = await postToken(rp, client, { grant_type: 'client_credentials' });
    expect(res).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' },
    });
  });

  it('refuses the authorization code flow to a client registered only for client_credentials', async () => {
    const client = await serviceClient();
    const rp = await discoverRp(server.issuer, client);
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: 'http://127.0.0.1:9999/callback',
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('<code>invalid_redirect_uri</code>');
  });
});
