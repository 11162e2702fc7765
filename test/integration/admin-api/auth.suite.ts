import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { discoverRp, oidc } from '../../helpers/rp.js';
import { oauthFailure } from '../../helpers/tokens.js';
import { adminToken, api, machineAdmin } from '../../helpers/admin-api.js';

/** Who may call the admin API: tokens Gatehouse issued for it, with the right scope. */
describe.each(HTTP_BACKENDS)('admin API authorization (%s)', (backend) => {
  const server = useTestServer(backend);

  it('answers 401 with a Bearer challenge without a token, and with a made-up one', async () => {
    const none = await api(server, null, 'GET', '/users');
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: 'invalid_token' });
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm="gatehouse-admin"/);
    const forged = await api(server, 'not-a-real-token-at-all', 'GET', '/users');
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('lets admin:read read but not write (403 insufficient_scope); admin:write does both', async () => {
    const reader = await adminToken(server, 'admin:read', ['admin:read']);
    expect((await api(server, reader, 'GET', '/users')).status).toBe(200);
    const refused = await api(server, reader, 'POST', '/roles', { name: 'auditors' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: 'insufficient_scope' });
    expect(refused.headers.get('www-authenticate')).toContain('scope="admin:write"');

    const writer = await adminToken(server, 'admin:write', ['admin:write']);
    expect((await api(server, writer, 'POST', '/roles', { name: 'auditors' })).status).toBe(201);
    expect((await api(server, writer, 'GET', '/roles')).status).toBe(200);
  });

  it('gives a client without admin scopes no admin token at all (invalid_target)', async () => {
    const plain = await server.buildClient({
      grantTypes: ['client_credentials'],
      redirectUris: [],
      postLogoutRedirectUris: [],
      scope: 'openid',
    });
    const rp = await discoverRp(server.issuer, plain);
    expect(await oauthFailure(oidc.clientCredentialsGrant(rp, { scope: 'admin:write' }))).toMatchObject({
      status: 400,
      error: 'invalid_target',
    });
  });

  it('refuses an ordinary access token that was not issued for the admin API', async () => {
    const client = await machineAdmin(server, ['admin:read']);
    const rp = await discoverRp(server.issuer, client);
    // No admin scope asked: the token is not for the admin API resource.
    const tokens = await oidc.clientCredentialsGrant(rp, { scope: 'openid' });
    const response = await api(server, tokens.access_token, 'GET', '/users');
    expect(response.status).toBe(401);
  });

  it('stops accepting a token once it is revoked', async () => {
    const client = await machineAdmin(server, ['admin:read']);
    const rp = await discoverRp(server.issuer, client);
    const tokens = await oidc.clientCredentialsGrant(rp, { scope: 'admin:read' });
    expect((await api(server, tokens.access_token, 'GET', '/roles')).status).toBe(200);
    await oidc.tokenRevocation(rp, tokens.access_token);
    expect((await api(server, tokens.access_token, 'GET', '/roles')).status).toBe(401);
  });

  it('refuses admin scopes on a client registration that cannot hold them', async () => {
    await expect(server.buildClient({ adminScopes: ['admin:read'] })).rejects.toMatchObject({ field: 'admin_scopes' });
  });
});
