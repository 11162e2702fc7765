import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { discoverRp, oidc } from '../../helpers/rp.js';
import { signIn, authorize, oauthFailure, jwsHeader } from '../../helpers/tokens.js';
import type { TestUser } from '../../helpers/factories.js';
import { UserAgent } from '../../helpers/user-agent.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';

const ORDERS_API = 'https://api.example.test/orders';
const REPORTS_API = 'https://reports.example.test/';

describe.each(HTTP_BACKENDS)('roles scope and JWT access tokens (%s)', (backend) => {
  let server: TestServer;
  const suffix = randomBytes(3).toString('hex');
  const admin = `admin-${suffix}`;
  const editor = `editor-${suffix}`;

  beforeAll(async () => {
    server = await startTestServer(backend, {
      resources: [
        { indicator: ORDERS_API, scopes: ['orders:read', 'orders:write'], accessTokenTtl: 300, format: 'jwt' },
        {
          indicator: REPORTS_API,
          audience: 'urn:example:reports',
          scopes: ['reports:read'],
          accessTokenTtl: 120,
          format: 'jwt',
        },
      ],
    });
    const { roles } = server.gatehouse.storage.storage;
    await roles.create({ name: admin, description: 'Administrators' });
    await roles.create({ name: editor });
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
  });

  async function userWithRoles(...names: string[]): Promise<TestUser> {
    const user = await server.buildUser();
    for (const name of names) await server.gatehouse.storage.storage.roles.assign(user.id, name);
    return user;
  }

  const verifyAccessToken = async (token: string, audience: string) => {
    const rp = await discoverRp(server.issuer, { clientId: 'unused', clientSecret: null });
    const jwksUri = rp.serverMetadata().jwks_uri;
    if (!jwksUri) throw new Error('no jwks_uri');
    return jwtVerify(token, createRemoteJWKSet(new URL(jwksUri)), { issuer: server.issuer, audience, typ: 'at+jwt' });
  };

  it('puts the roles claim in the ID token and userinfo when the roles scope is requested and allowed', async () => {
    const user = await userWithRoles(admin, editor);
    const client = await server.buildClient({ scope: 'openid profile email roles' });
    const { tokens, rp } = await signIn(server, { user, client, params: { scope: 'openid roles' } });
    expect(tokens.claims()?.roles).toEqual([admin, editor].sort());
    const info = await oidc.fetchUserInfo(rp, tokens.access_token, user.id);
    expect(info.roles).toEqual([admin, editor].sort());
    expect(tokens.scope?.split(' ')).toContain('roles');
  });

  it('gives an empty list to a user without roles', async () => {
    const client = await server.buildClient({ scope: 'openid roles' });
    const { tokens } = await signIn(server, { client, params: { scope: 'openid roles' } });
    expect(tokens.claims()?.roles).toEqual([]);
  });

  it('leaves roles out of the ID token and userinfo without the roles scope', async () => {
    const user = await userWithRoles(admin);
    const client = await server.buildClient({ scope: 'openid profile email roles' });
    const { tokens, rp } = await signIn(server, { user, client, params: { scope: 'openid profile' } });
    expect(tokens.claims()).not.toHaveProperty('roles');
    const info = await oidc.fetchUserInfo(rp, tokens.access_token, user.id);
    expect(info).not.toHaveProperty('roles');
    expect(info.name).toBe('Test User');
  });

  it('shows a client only its visible roles', async () => {
    const user = await userWithRoles(admin, editor);
    const client = await server.buildClient({ scope: 'openid roles', visibleRoles: [editor, 'not-assigned'] });
    const { tokens, rp } = await signIn(server, { user, client, params: { scope: 'openid roles' } });
    expect(tokens.claims()?.roles).toEqual([editor]);
    expect((await oidc.fetchUserInfo(rp, tokens.access_token, user.id)).roles).toEqual([editor]);
  });

  it('refuses the roles scope to a client whose registered scope lacks it (invalid_scope at the authorization endpoint)', async () => {
    const user = await userWithRoles(admin);
    const client = await server.buildClient({ scope: 'openid profile email' });
    const rp = await discoverRp(server.issuer, client);
    const request = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: client.redirectUri,
      scope: 'openid roles',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 's1',
    });
    const page = await new UserAgent(server.issuer).get(request.toString());
    const location = new URL(page.location ?? '', server.issuer);
    expect(`${location.origin}${location.pathname}`).toBe(client.redirectUri);
    expect(location.searchParams.get('error')).toBe('invalid_scope');
    expect(location.searchParams.get('scope')).toBe('roles');
    expect(location.searchParams.get('code')).toBeNull();
    expect(user.id).toEqual(expect.any(String));
  });

  it('issues a JWT access token (RFC 9068) for a configured resource, with aud, scope, client_id and roles', async () => {
    const user = await userWithRoles(admin);
    const client = await server.buildClient({ scope: 'openid roles', visibleRoles: [] });
    const authorized = await authorize(server, {
      user,
      client,
      params: { scope: 'openid roles orders:read', resource: ORDERS_API },
    });
    expect(authorized.pages).toEqual(['login']);
    const tokens = await oidc.authorizationCodeGrant(
      authorized.rp,
      new URL(authorized.callbackUrl),
      {
        pkceCodeVerifier: authorized.request.codeVerifier,
        expectedState: authorized.request.state,
        expectedNonce: authorized.request.nonce,
      },
      { resource: ORDERS_API },
    );
    expect(jwsHeader(tokens.access_token).typ).toBe('at+jwt');
    const { payload, protectedHeader } = await verifyAccessToken(tokens.access_token, ORDERS_API);
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: user.id, client_id: client.clientId, scope: 'orders:read', roles: [admin] });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(300);
    // The ID token still carries the roles claim of the openid side of the grant.
    expect(tokens.claims()?.roles).toEqual([admin]);
  });

  it('leaves roles out of the JWT access token when the roles scope was not granted, and uses the configured audience', async () => {
    const user = await userWithRoles(admin);
    const client = await server.buildClient({ scope: 'openid roles' });
    const authorized = await authorize(server, {
      user,
      client,
      params: { scope: 'openid reports:read', resource: REPORTS_API },
    });
    const tokens = await oidc.authorizationCodeGrant(
      authorized.rp,
      new URL(authorized.callbackUrl),
      {
        pkceCodeVerifier: authorized.request.codeVerifier,
        expectedState: authorized.request.state,
        expectedNonce: authorized.request.nonce,
      },
      { resource: REPORTS_API },
    );
    const { payload } = await verifyAccessToken(tokens.access_token, 'urn:example:reports');
    expect(payload.scope).toBe('reports:read');
    expect(payload).not.toHaveProperty('roles');
  });

  it("asks a third-party client's user to consent to the resource scopes, then issues them", async () => {
    const user = await userWithRoles(editor);
    const client = await server.buildClient({ scope: 'openid roles', firstParty: false });
    const authorized = await authorize(server, {
      user,
      client,
      consent: 'allow',
      params: { scope: 'openid roles orders:write', resource: ORDERS_API },
    });
    expect(authorized.pages).toEqual(['login', 'consent']);
    const tokens = await oidc.authorizationCodeGrant(
      authorized.rp,
      new URL(authorized.callbackUrl),
      {
        pkceCodeVerifier: authorized.request.codeVerifier,
        expectedState: authorized.request.state,
        expectedNonce: authorized.request.nonce,
      },
      { resource: ORDERS_API },
    );
    const { payload } = await verifyAccessToken(tokens.access_token, ORDERS_API);
    expect(payload).toMatchObject({ scope: 'orders:write', roles: [editor] });
  });

  it('lists missing resource scopes and the roles scope in plain words on the consent page', async () => {
    const user = await userWithRoles(editor);
    const client = await server.buildClient({ scope: 'openid roles', firstParty: false });
    const rp = await discoverRp(server.issuer, client);
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: client.redirectUri,
      scope: 'openid roles orders:read',
      resource: ORDERS_API,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 's2',
    });
    const ua = new UserAgent(server.issuer);
    let page = await ua.get(url.toString());
    while (page.location) page = await ua.get(page.location);
    const login = page.html.match(/action="([^"]*\/login)"/)?.[1];
    const csrf = page.html.match(/name="csrf" value="([^"]+)"/)?.[1];
    if (!login || !csrf) throw new Error('no login form');
    page = await ua.post(login, { csrf, email: user.email, password: user.password });
    while (page.location) page = await ua.get(page.location);
    expect(page.html).toContain('data-scope="roles"');
    expect(page.html).toContain('See the roles you hold');
    expect(page.html).toContain('data-scope="orders:read"');
    expect(page.html).toContain(`orders:read on ${ORDERS_API}`);
  });

  it('issues a JWT access token to client_credentials with a resource, without roles', async () => {
    const client = await server.buildClient({
      grantTypes: ['client_credentials'],
      redirectUris: [],
      postLogoutRedirectUris: [],
      scope: 'openid',
    });
    const rp = await discoverRp(server.issuer, client);
    const tokens = await oidc.clientCredentialsGrant(rp, { scope: 'orders:read', resource: ORDERS_API });
    const { payload } = await verifyAccessToken(tokens.access_token, ORDERS_API);
    expect(payload).toMatchObject({ client_id: client.clientId, scope: 'orders:read' });
    expect(payload).not.toHaveProperty('roles');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(300);
    // Without a resource the token stays opaque.
    const opaque = await oidc.clientCredentialsGrant(rp);
    expect(opaque.access_token.split('.')).toHaveLength(1);
  });

  it('refuses an unknown resource with invalid_target, at the token and authorization endpoints', async () => {
    const service = await server.buildClient({
      grantTypes: ['client_credentials'],
      redirectUris: [],
      postLogoutRedirectUris: [],
      scope: 'openid',
    });
    const rp = await discoverRp(server.issuer, service);
    expect(await oauthFailure(oidc.clientCredentialsGrant(rp, { resource: 'https://unknown.example.test/' }))).toEqual({
      status: 400,
      error: 'invalid_target',
    });

    const client = await server.buildClient();
    const web = await discoverRp(server.issuer, client);
    const url = oidc.buildAuthorizationUrl(web, {
      redirect_uri: client.redirectUri,
      scope: 'openid',
      resource: 'https://unknown.example.test/',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 's3',
    });
    const page = await new UserAgent(server.issuer).get(url.toString());
    expect(new URL(page.location ?? '', server.issuer).searchParams.get('error')).toBe('invalid_target');
  });

  it('keeps the code-flow access token opaque for userinfo when no resource is named', async () => {
    const user = await userWithRoles(admin);
    const client = await server.buildClient({ scope: 'openid roles' });
    const { tokens, rp } = await signIn(server, { user, client, params: { scope: 'openid roles' } });
    expect(() => decodeJwt(tokens.access_token)).toThrow();
    expect((await oidc.fetchUserInfo(rp, tokens.access_token, user.id)).roles).toEqual([admin]);
  });
});
