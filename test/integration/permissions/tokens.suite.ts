import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { discoverRp, oidc } from '../../helpers/rp.js';
import { authorize, oauthFailure } from '../../helpers/tokens.js';
import { adminToken, api, expectStatus } from '../../helpers/admin-api.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * Permissions in access tokens (RBAC) and token exchange (RFC 8693), with openid-client as the
 * RP and every setting made through the admin API.
 */
describe.each(HTTP_BACKENDS)('permissions and token exchange (%s)', (backend) => {
  let server: TestServer;
  let token: string;
  const suffix = randomBytes(3).toString('hex');
  const ORDERS = `https://orders-${suffix}.example.test/`;
  const STOCK = `https://stock-${suffix}.example.test/`;
  const OTHER = `https://other-${suffix}.example.test/`;
  const reader = `orders-reader-${suffix}`;
  const call = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
    api<T>(server, token, method, path, body);

  beforeAll(async () => {
    server = await startTestServer(backend);
    token = await adminToken(server);
    for (const [indicator, names, claim] of [
      [ORDERS, ['orders:read', 'orders:write', 'orders:delete'], true],
      [STOCK, ['stock:read', 'stock:write'], false],
      [OTHER, ['other:read'], false],
    ] as const) {
      const r = expectStatus(
        await call<{ id: string }>('POST', '/resources', { indicator, name: indicator, permissions_claim: claim }),
        201,
      );
      for (const name of names) expectStatus(await call('POST', `/resources/${r.id}/permissions`, { name }), 201);
    }
    expectStatus(await call('POST', '/roles', { name: reader }), 201);
    for (const [resource, permission] of [
      [ORDERS, 'orders:read'],
      [ORDERS, 'orders:delete'],
      [STOCK, 'stock:read'],
      [OTHER, 'other:read'],
    ])
      expectStatus(await call('POST', `/roles/${reader}/permissions`, { resource, permission }), 200);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
  });

  const verify = async (jwt: string, audience: string) => {
    const rp = await discoverRp(server.issuer, { clientId: 'unused', clientSecret: null });
    const jwks = createRemoteJWKSet(new URL(rp.serverMetadata().jwks_uri ?? ''));
    return (await jwtVerify(jwt, jwks, { issuer: server.issuer, audience, typ: 'at+jwt' })).payload;
  };

  async function readerUser() {
    const user = await server.buildUser();
    expectStatus(await call('PUT', `/users/${user.id}/roles/${reader}`), 200);
    return user;
  }

  /** A user's access token for ORDERS, asking for `scope`, through a first-party browser client. */
  async function ordersToken(scope: string) {
    const user = await readerUser();
    const client = await server.buildClient({ grantTypes: ['authorization_code', 'refresh_token'] });
    const authorized = await authorize(server, {
      user,
      client,
      params: { scope: `openid ${scope}`, resource: ORDERS },
    });
    const tokens = await oidc.authorizationCodeGrant(
      authorized.rp,
      new URL(authorized.callbackUrl),
      {
        pkceCodeVerifier: authorized.request.codeVerifier,
        expectedState: authorized.request.state,
        expectedNonce: authorized.request.nonce,
      },
      { resource: ORDERS },
    );
    return { user, client, rp: authorized.rp, tokens };
  }

  describe('permissions in tokens', () => {
    it("carries only the permissions the user's roles grant and the client asked for", async () => {
      const { user, tokens } = await ordersToken('orders:read orders:write');
      const payload = await verify(tokens.access_token, ORDERS);
      // orders:write is asked for but not granted; orders:delete is granted but not asked for.
      expect(payload).toMatchObject({ sub: user.id, scope: 'orders:read', permissions: ['orders:read'] });
    });

    it('reflects a role change in the next token (a refresh)', async () => {
      const { rp, tokens } = await ordersToken('orders:read orders:write');
      expect((await verify(tokens.access_token, ORDERS)).scope).toBe('orders:read');
      expectStatus(
        await call('POST', `/roles/${reader}/permissions`, { resource: ORDERS, permission: 'orders:write' }),
        200,
      );
      try {
        const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token ?? '', { resource: ORDERS });
        expect((await verify(refreshed.access_token, ORDERS)).scope).toBe('orders:read orders:write');
        const q = `?resource=${encodeURIComponent(ORDERS)}`;
        expectStatus(await call('DELETE', `/roles/${reader}/permissions/orders:write${q}`), 200);
        expectStatus(await call('DELETE', `/roles/${reader}/permissions/orders:read${q}`), 200);
        const again = await oidc.refreshTokenGrant(rp, refreshed.refresh_token ?? '', { resource: ORDERS });
        const payload = await verify(again.access_token, ORDERS);
        expect(payload.scope).toBeUndefined();
        expect(payload.permissions).toEqual([]);
      } finally {
        await call('POST', `/roles/${reader}/permissions`, { resource: ORDERS, permission: 'orders:read' });
      }
    });

    it('gives a machine client the permissions granted to it directly, and none without', async () => {
      const client = await server.buildClient({
        grantTypes: ['client_credentials'],
        redirectUris: [],
        scope: 'openid',
      });
      const rp = await discoverRp(server.issuer, client);
      const none = await oidc.clientCredentialsGrant(rp, { scope: 'stock:read stock:write', resource: STOCK });
      expect((await verify(none.access_token, STOCK)).scope).toBeUndefined();
      expectStatus(
        await call('POST', `/clients/${client.clientId}/permissions`, { resource: STOCK, permission: 'stock:write' }),
        200,
      );
      const tokens = await oidc.clientCredentialsGrant(rp, { scope: 'stock:read stock:write', resource: STOCK });
      const payload = await verify(tokens.access_token, STOCK);
      expect(payload).toMatchObject({ sub: client.clientId, scope: 'stock:write' });
      // STOCK has no permissions claim.
      expect(payload).not.toHaveProperty('permissions');
    });

    it('refuses a resource nobody defined with invalid_target', async () => {
      const client = await server.buildClient({
        grantTypes: ['client_credentials'],
        redirectUris: [],
        scope: 'openid',
      });
      const rp = await discoverRp(server.issuer, client);
      const failure = await oauthFailure(
        oidc.clientCredentialsGrant(rp, { scope: 'x:read', resource: 'https://unknown.example.test/' }),
      );
      expect(failure).toEqual({ status: 400, error: 'invalid_target' });
    });
  });

  describe('token exchange (RFC 8693)', () => {
    /** A service that may exchange tokens aimed at ORDERS (the API it is) for STOCK tokens. */
    async function exchanger(
      policy: Record<string, unknown> | null = { targets: [STOCK], subject_audiences: [ORDERS] },
    ) {
      const client = await server.buildClient({ grantTypes: [TOKEN_EXCHANGE], redirectUris: [], scope: 'openid' });
      if (policy) expectStatus(await call('PUT', `/clients/${client.clientId}/token-exchange`, policy), 200);
      return { client, rp: await discoverRp(server.issuer, client) };
    }

    const exchange = (rp: oidc.Configuration, params: Record<string, string>) =>
      oidc.genericGrantRequest(rp, TOKEN_EXCHANGE, { subject_token_type: ACCESS_TOKEN_TYPE, ...params });

    it('is advertised in discovery', async () => {
      const rp = await discoverRp(server.issuer, { clientId: 'unused', clientSecret: null });
      expect(rp.serverMetadata().grant_types_supported).toContain(TOKEN_EXCHANGE);
    });

    it("issues a token for the target with act naming the service and the intersection of the user's permissions and the asked ones", async () => {
      const { user, tokens } = await ordersToken('orders:read');
      const { client, rp } = await exchanger();
      const exchanged = await exchange(rp, {
        subject_token: tokens.access_token,
        resource: STOCK,
        scope: 'stock:read stock:write',
      });
      expect(exchanged).toMatchObject({
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'bearer',
        scope: 'stock:read',
      });
      const payload = await verify(exchanged.access_token, STOCK);
      expect(payload).toMatchObject({
        sub: user.id,
        client_id: client.clientId,
        scope: 'stock:read',
        act: { sub: client.clientId },
      });
      // The audience parameter names the target as well.
      const byAudience = await exchange(rp, {
        subject_token: tokens.access_token,
        audience: STOCK,
        scope: 'stock:read',
      });
      expect(decodeJwt(byAudience.access_token).aud).toBe(STOCK);
      const events = expectStatus(
        await call<{ items: Array<{ action: string; client_id: string | null }> }>(
          'GET',
          '/audit-events?action=token.exchanged&limit=50',
        ),
        200,
      );
      expect(events.items.some((e) => e.client_id === client.clientId)).toBe(true);
    });

    it('refuses a client without the grant, and one without a policy (unauthorized_client)', async () => {
      const { tokens } = await ordersToken('orders:read');
      const plain = await server.buildClient({ grantTypes: ['client_credentials'], redirectUris: [], scope: 'openid' });
      const plainFailure = await oauthFailure(
        exchange(await discoverRp(server.issuer, plain), {
          subject_token: tokens.access_token,
          resource: STOCK,
          scope: 'stock:read',
        }),
      );
      expect(plainFailure.status).toBe(400);
      expect(['invalid_request', 'unauthorized_client']).toContain(plainFailure.error);
      const { rp } = await exchanger(null);
      expect(
        await oauthFailure(exchange(rp, { subject_token: tokens.access_token, resource: STOCK, scope: 'stock:read' })),
      ).toEqual({
        status: 400,
        error: 'unauthorized_client',
      });
    });

    it('refuses an unknown resource and one outside the policy (invalid_target)', async () => {
      const { tokens } = await ordersToken('orders:read');
      const { rp } = await exchanger();
      const failure = (resource: string) =>
        oauthFailure(exchange(rp, { subject_token: tokens.access_token, resource, scope: 'stock:read' }));
      expect(await failure('https://nowhere.example.test/')).toEqual({ status: 400, error: 'invalid_target' });
      expect(await failure(OTHER)).toEqual({ status: 400, error: 'invalid_target' });
      expect(await oauthFailure(exchange(rp, { subject_token: tokens.access_token, scope: 'stock:read' }))).toEqual({
        status: 400,
        error: 'invalid_target',
      });
    });

    it('refuses a revoked, a forged and a foreign subject token (invalid_grant)', async () => {
      const { user, tokens } = await ordersToken('orders:read');
      const { rp } = await exchanger();
      const ask = (subject: string) =>
        oauthFailure(exchange(rp, { subject_token: subject, resource: STOCK, scope: 'stock:read' }));
      expect(await ask('not-a-token')).toEqual({ status: 400, error: 'invalid_grant' });
      // A JWT with our header but not our signature.
      const [header, body] = tokens.access_token.split('.');
      expect(await ask(`${header}.${body}.AAAA`)).toEqual({ status: 400, error: 'invalid_grant' });
      // Foreign: a service whose policy does not name ORDERS as an audience it serves.
      const { rp: stranger } = await exchanger({ targets: [STOCK] });
      expect(
        await oauthFailure(
          exchange(stranger, { subject_token: tokens.access_token, resource: STOCK, scope: 'stock:read' }),
        ),
      ).toEqual({ status: 400, error: 'invalid_grant' });
      // Revoked: the token is exchangeable until the admin revokes the user's grants.
      await exchange(rp, { subject_token: tokens.access_token, resource: STOCK, scope: 'stock:read' });
      const grants = expectStatus(await call<{ items: Array<{ id: string }> }>('GET', `/users/${user.id}/grants`), 200);
      for (const grant of grants.items) expectStatus(await call('DELETE', `/users/${user.id}/grants/${grant.id}`), 204);
      expect(await ask(tokens.access_token)).toEqual({ status: 400, error: 'invalid_grant' });
    });

    it('refuses an unsupported token type, an actor token, no scope, and permissions the user lacks', async () => {
      const { tokens } = await ordersToken('orders:read');
      const { rp } = await exchanger();
      const base = { subject_token: tokens.access_token, resource: STOCK, scope: 'stock:read' };
      expect(
        await oauthFailure(
          oidc.genericGrantRequest(rp, TOKEN_EXCHANGE, {
            ...base,
            subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
          }),
        ),
      ).toEqual({ status: 400, error: 'invalid_request' });
      expect(
        await oauthFailure(exchange(rp, { ...base, actor_token: 'x', actor_token_type: ACCESS_TOKEN_TYPE })),
      ).toEqual({ status: 400, error: 'invalid_request' });
      expect(await oauthFailure(exchange(rp, { subject_token: tokens.access_token, resource: STOCK }))).toEqual({
        status: 400,
        error: 'invalid_request',
      });
      expect(await oauthFailure(exchange(rp, { ...base, scope: 'stock:write' }))).toEqual({
        status: 400,
        error: 'invalid_scope',
      });
    });
  });
});

describe.each(HTTP_BACKENDS)('token exchange switched off (%s)', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, {
      flows: { tokenExchange: { enabled: false } },
    } as Parameters<typeof startTestServer>[1]);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
  });

  it('is not advertised, and a client cannot be given the grant', async () => {
    const rp = await discoverRp(server.issuer, { clientId: 'unused', clientSecret: null });
    expect(rp.serverMetadata().grant_types_supported).not.toContain(TOKEN_EXCHANGE);
    const client = await server.buildClient({ grantTypes: ['client_credentials'], redirectUris: [], scope: 'openid' });
    const failure = await oauthFailure(
      oidc.genericGrantRequest(await discoverRp(server.issuer, client), TOKEN_EXCHANGE, {
        subject_token: 'x',
        subject_token_type: ACCESS_TOKEN_TYPE,
      }),
    );
    expect(failure).toEqual({ status: 400, error: 'unsupported_grant_type' });
  });
});
