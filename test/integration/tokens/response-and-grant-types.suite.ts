import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { UserAgent, type Page } from '../../helpers/user-agent.js';
import { buildAuthRequest, discoverRp, oidc } from '../../helpers/rp.js';
import { authorize, postToken } from '../../helpers/tokens.js';
import type { TestClient } from '../../helpers/factories.js';

/** The error an OP sends back to the redirect URI, from the query or the fragment. */
function redirectedError(page: Page, redirectUri: string): URLSearchParams {
  expect(page.status).toBeGreaterThanOrEqual(300);
  expect(page.status).toBeLessThan(400);
  const location = new URL(page.location ?? 'about:blank');
  expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
  const params = new URLSearchParams(location.hash ? location.hash.slice(1) : location.search);
  expect(params.get('code')).toBeNull();
  expect(params.get('access_token')).toBeNull();
  expect(params.get('id_token')).toBeNull();
  return params;
}

/** Authorization code only: no implicit or hybrid flows, no password grant (RFC 9700 §2.1.2, §2.4). */
describe.each(HTTP_BACKENDS)('response types and grant types (%s)', (backend) => {
  let client: TestClient;
  let rp: oidc.Configuration;
  const server = useSharedTestServer(backend);
  beforeAll(async () => {
    client = await server.buildClient();
    rp = await discoverRp(server.issuer, client);
  });

  it('advertises only the code response type and no password grant in discovery', () => {
    const metadata = rp.serverMetadata();
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']),
    );
    expect(metadata.grant_types_supported).not.toContain('password');
    expect(metadata.grant_types_supported).not.toContain('implicit');
  });

  it('accepts response_type=code', async () => {
    const { code } = await authorize(server, { client, rp });
    expect(code).toEqual(expect.any(String));
  });

  it.each(['token', 'id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token'])(
    'refuses response_type=%s with unsupported_response_type',
    async (responseType) => {
      const request = await buildAuthRequest(rp, client.redirectUri, { response_type: responseType });
      const page = await new UserAgent(server.issuer).get(request.url);
      const params = redirectedError(page, client.redirectUri);
      expect(params.get('error')).toBe('unsupported_response_type');
      expect(params.get('state')).toBe(request.state);
    },
  );

  it('refuses grant_type=password with unsupported_grant_type, even with valid user credentials', async () => {
    const user = await server.buildUser();
    const res = await postToken(rp, client, {
      grant_type: 'password',
      username: user.email,
      password: user.password,
      scope: 'openid',
    });
    expect(res).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    expect(res.body.access_token).toBeUndefined();
  });

  it.each(['implicit', 'urn:ietf:params:oauth:grant-type:jwt-bearer'])(
    'refuses grant_type=%s with unsupported_grant_type',
    async (grantType) => {
      const res = await postToken(rp, client, { grant_type: grantType });
      expect(res).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    },
  );

  // The device flow is on (issue 19), for clients registered for its grant only.
  it('refuses the device code grant to a client not registered for it', async () => {
    const res = await postToken(rp, client, {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: 'x',
    });
    // oidc-provider's answer for a grant type the client was not registered for.
    expect(res).toMatchObject({
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: 'requested grant type is not allowed for this client',
      },
    });
  });

  it('refuses a token request without grant_type with invalid_request', async () => {
    const res = await postToken(rp, client, {});
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});
