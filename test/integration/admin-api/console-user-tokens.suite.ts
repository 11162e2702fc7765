import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { UserAgent, runAuthorization } from '../../helpers/user-agent.js';
import { buildAuthRequest, discoverRp, oidc } from '../../helpers/rp.js';
import type { TestUser } from '../../helpers/factories.js';
import { api } from '../../helpers/admin-api.js';
import { adminApiIndicator } from '../../../src/oidc/admin-resource.js';
import { ADMIN_CONSOLE_CLIENT_ID } from '../../../src/clients/built-in-client.js';
import { adminRedirectUri } from '../../../src/admin/console-client.js';

/** Admin users reach the API with a code + PKCE token of the console's own client, for the admin API resource. */
describe.each(HTTP_BACKENDS)("admin API with an admin user's token (%s)", (backend) => {
  const server = useTestServer(backend, { admin: { consoleMfa: 'optional' } });

  async function userToken(
    user: TestUser,
    client = { clientId: ADMIN_CONSOLE_CLIENT_ID, clientSecret: null },
    redirectUri = adminRedirectUri(server.issuer),
  ) {
    const rp = await discoverRp(server.issuer, client);
    const resource = adminApiIndicator(server.issuer);
    const request = await buildAuthRequest(rp, redirectUri, { scope: 'openid admin:read admin:write', resource });
    const trace = await runAuthorization(new UserAgent(server.issuer), request.url, redirectUri, {
      email: user.email,
      password: user.password,
    });
    const tokens = await oidc.authorizationCodeGrant(
      rp,
      new URL(trace.callbackUrl),
      {
        pkceCodeVerifier: request.codeVerifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
      },
      { resource },
    );
    return tokens;
  }

  it('lets a user holding the admin role act, recorded with the user as actor', async () => {
    const admin = await server.buildUser();
    await server.gatehouse.storage.storage.roles.assign(admin.id, 'admin');
    const tokens = await userToken(admin);
    expect(tokens.scope?.split(' ').sort()).toEqual(['admin:read', 'admin:write']);
    const created = await api(server, tokens.access_token, 'POST', '/roles', { name: 'reviewers' });
    expect(created.status).toBe(201);
    const [event] = await server.gatehouse.storage.storage.audit.query({ action: 'role.created', limit: 1 });
    expect(event).toMatchObject({
      actorId: admin.id,
      clientId: ADMIN_CONSOLE_CLIENT_ID,
      requestId: created.headers.get('x-request-id'),
    });
  });

  it('refuses a user without the admin role (403), and one whose role was taken away', async () => {
    const user = await server.buildUser();
    const tokens = await userToken(user);
    const refused = await api(server, tokens.access_token, 'GET', '/users');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: 'insufficient_scope' });

    const former = await server.buildUser();
    await server.gatehouse.storage.storage.roles.assign(former.id, 'admin');
    const formerTokens = await userToken(former);
    expect((await api(server, formerTokens.access_token, 'GET', '/users')).status).toBe(200);
    await server.gatehouse.storage.storage.roles.unassign(former.id, 'admin');
    expect((await api(server, formerTokens.access_token, 'GET', '/users')).status).toBe(403);
  });

  it("refuses an admin user's token once the user is disabled", async () => {
    const admin = await server.buildUser();
    await server.gatehouse.storage.storage.roles.assign(admin.id, 'admin');
    const tokens = await userToken(admin);
    await server.gatehouse.storage.storage.users.setDisabled(admin.id, true);
    expect((await api(server, tokens.access_token, 'GET', '/users')).status).toBe(401);
  });

  it("gives another client's users no admin API token (invalid_target)", async () => {
    const admin = await server.buildUser();
    await server.gatehouse.storage.storage.roles.assign(admin.id, 'admin');
    const client = await server.buildClient();
    const rp = await discoverRp(server.issuer, client);
    const request = await buildAuthRequest(rp, client.redirectUri, {
      resource: adminApiIndicator(server.issuer),
      scope: 'openid admin:write',
    });
    // Refused at the authorization request, before any sign-in: the error goes back to the client.
    const trace = await runAuthorization(new UserAgent(server.issuer), request.url, client.redirectUri, {
      email: admin.email,
      password: admin.password,
    });
    expect(trace.pages).toEqual([]);
    expect(new URL(trace.callbackUrl).searchParams.get('error')).toBe('invalid_target');
  });
});
