import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { discoverRp, oidc } from '../../helpers/rp.js';
import { OFFLINE, postToken, refreshTokenOf, signIn } from '../../helpers/tokens.js';
import {
  allPages,
  apiAs,
  expectFieldError,
  expectStatus,
  forgedCursor,
  testClientOf,
  useAdminApi,
} from '../../helpers/admin-api.js';

const CALLBACK = 'http://127.0.0.1:9999/callback';
const OTHER_CALLBACK = 'https://rp.example.test/callback';

interface ClientBody {
  client_id: string;
  client_secret?: string | null;
  status: string;
  redirect_uris: string[];
  [field: string]: unknown;
}

/** /admin/api/v1/clients: registration, changes, secrets, deletion and the approval queue. */
describe.each(HTTP_BACKENDS)('admin API clients (%s)', (backend) => {
  const { server, call } = useAdminApi(backend);

  const create = async (body: Record<string, unknown>) =>
    expectStatus(await call<ClientBody>('POST', '/clients', body), 201);
  const confidential = (extra: Record<string, unknown> = {}) =>
    create({ name: 'Shop', redirect_uris: [CALLBACK], first_party: true, ...extra });

  describe('create and read', () => {
    it('creates a confidential client whose secret is shown once and works at the token endpoint', async () => {
      const created = await confidential({
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      });
      expect(created).toMatchObject({
        name: 'Shop',
        status: 'active',
        source: 'admin',
        public: false,
        first_party: true,
        redirect_uris: [CALLBACK],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      });
      expect(created.client_secret).toEqual(expect.any(String));

      const read = expectStatus(await call<ClientBody>('GET', `/clients/${created.client_id}`), 200);
      expect(read).not.toHaveProperty('client_secret');
      expect(JSON.stringify(read)).not.toContain(created.client_secret);
      const listed = (await allPages<ClientBody>(call, '/clients?limit=200')).flatMap((p) => p.items);
      expect(JSON.stringify(listed)).not.toContain(created.client_secret);

      const client = testClientOf(created);
      const rp = await discoverRp(server.issuer, client);
      expect((await oidc.clientCredentialsGrant(rp, { scope: 'openid' })).access_token).toEqual(expect.any(String));
      const { tokens } = await signIn(server, { client, rp });
      expect(tokens.id_token).toEqual(expect.any(String));
      const wrong = await postToken(
        rp,
        { clientId: created.client_id, clientSecret: `${created.client_secret}x` },
        { grant_type: 'client_credentials' },
      );
      expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    });

    it('never lets a response with a secret be cached', async () => {
      const created = await call<ClientBody>('POST', '/clients', {
        name: 'Cached?',
        grant_types: ['client_credentials'],
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('cache-control')).toMatch(/no-store/);
      const rotated = await call('POST', `/clients/${created.body.client_id}/secret`);
      expect(rotated.headers.get('cache-control')).toMatch(/no-store/);
    });

    it('creates a public client: no secret, auth method none, and a PKCE sign-in works', async () => {
      const created = await create({ name: 'SPA', redirect_uris: [CALLBACK], public: true, first_party: true });
      expect(created).toMatchObject({ public: true, token_endpoint_auth_method: 'none', client_secret: null });
      const { tokens } = await signIn(server, { client: testClientOf(created) });
      expect(tokens.id_token).toEqual(expect.any(String));
    });

    it('answers 404 for an unknown client id on every route', async () => {
      for (const [method, path] of [
        ['GET', ''],
        ['PATCH', ''],
        ['DELETE', ''],
        ['POST', '/secret'],
        ['POST', '/approve'],
        ['POST', '/reject'],
      ] as const) {
        const response = await call(
          method,
          `/clients/no-such-client${path}`,
          method === 'PATCH' ? { name: 'x' } : undefined,
        );
        expect({ method, path, status: response.status, error: response.body.error }).toEqual({
          method,
          path,
          status: 404,
          error: 'not_found',
        });
      }
    });
  });

  describe('list', () => {
    it('pages through every client with next_cursor, each exactly once, oldest first', async () => {
      const created: string[] = [];
      for (let i = 0; i < 7; i++) created.push((await confidential({ name: `Paged ${i}` })).client_id);
      const pages = await allPages<ClientBody>(call, '/clients?limit=3');
      expect(pages.length).toBeGreaterThanOrEqual(3);
      for (const page of pages.slice(0, -1)) expect(page.items).toHaveLength(3);
      const ids = pages.flatMap((p) => p.items.map((c) => c.client_id));
      expect(new Set(ids).size).toBe(ids.length);
      const all = expectStatus(await call<{ items: ClientBody[] }>('GET', '/clients?limit=200'), 200).items.map(
        (c) => c.client_id,
      );
      expect(ids).toEqual(all);
      expect(ids.filter((id) => created.includes(id))).toEqual(created);
    });

    it('filters the approval queue with status=pending', async () => {
      const pending = await confidential({ name: 'Queued' });
      await server.gatehouse.storage.storage.clients.update(pending.client_id, { status: 'pending' });
      const queue = (await allPages<ClientBody>(call, '/clients?status=pending')).flatMap((p) => p.items);
      expect(queue.map((c) => c.client_id)).toContain(pending.client_id);
      expect(queue.every((c) => c.status === 'pending')).toBe(true);
    });

    it('refuses a cursor it did not issue and an out-of-range limit', async () => {
      expectFieldError(await call('GET', '/clients?cursor=bm90LWEtY3Vyc29y'), 'cursor');
      expectFieldError(await call('GET', `/clients?cursor=${forgedCursor('a\u0000b')}`), 'cursor');
      expect((await call('GET', `/clients?cursor=${forgedCursor('any-client-id')}`)).status).toBe(200);
      expectFieldError(await call('GET', '/clients?limit=0'), 'limit');
      expectFieldError(await call('GET', '/clients?limit=201'), 'limit');
      expectFieldError(await call('GET', '/clients?status=gone'), 'status');
    });
  });

  describe('change', () => {
    it('changes redirect_uris: a sign-in with the new URI works and the old one is refused', async () => {
      const created = await confidential();
      const changed = expectStatus(
        await call<ClientBody>('PATCH', `/clients/${created.client_id}`, { redirect_uris: [OTHER_CALLBACK] }),
        200,
      );
      expect(changed).toMatchObject({ redirect_uris: [OTHER_CALLBACK], name: 'Shop', client_secret: null });
      expect(expectStatus(await call<ClientBody>('GET', `/clients/${created.client_id}`), 200).redirect_uris).toEqual([
        OTHER_CALLBACK,
      ]);

      const client = testClientOf(changed, created.client_secret);
      const { tokens } = await signIn(server, { client });
      expect(tokens.id_token).toEqual(expect.any(String));
      await expect(signIn(server, { client: { ...client, redirectUri: CALLBACK } })).rejects.toThrow(
        /redirect_uri|flow stopped|unexpected page/,
      );
    });

    it('keeps the other fields and the secret on a partial change', async () => {
      const created = await confidential({ scope: 'openid email' });
      const changed = expectStatus(
        await call<ClientBody>('PATCH', `/clients/${created.client_id}`, { name: 'Renamed shop' }),
        200,
      );
      expect(changed).toMatchObject({
        name: 'Renamed shop',
        scope: 'openid email',
        redirect_uris: [CALLBACK],
        public: false,
        client_secret: null,
      });
      const { tokens } = await signIn(server, { client: testClientOf(created), params: { scope: 'openid email' } });
      expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'openid']);
    });

    it('sets a refresh reuse grace of 0 to 60 seconds, and refuses other values by field', async () => {
      const created = await confidential({ refresh_token_reuse_grace_seconds: 20 });
      expect(created).toMatchObject({ refresh_token_reuse_grace_seconds: 20 });
      const changed = expectStatus(
        await call<ClientBody>('PATCH', `/clients/${created.client_id}`, { refresh_token_reuse_grace_seconds: 0 }),
        200,
      );
      expect(changed).toMatchObject({ refresh_token_reuse_grace_seconds: 0 });
      for (const bad of [61, -1, 2.5, '10']) {
        expectFieldError(
          await call('PATCH', `/clients/${created.client_id}`, { refresh_token_reuse_grace_seconds: bad }),
          'refresh_token_reuse_grace_seconds',
        );
      }
      expectFieldError(
        await call('POST', '/clients', {
          name: 'No refresh',
          redirect_uris: [CALLBACK],
          grant_types: ['authorization_code'],
          refresh_token_reuse_grace_seconds: 5,
        }),
        'refresh_token_reuse_grace_seconds',
      );
    });

    it('sets the logo, policy and terms the consent page shows; "" removes one; a bad URL is refused by field', async () => {
      const links = {
        logo_uri: 'https://rp.example.test/logo.png',
        policy_uri: 'https://rp.example.test/privacy',
        tos_uri: 'https://rp.example.test/terms',
      };
      const created = await confidential(links);
      expect(created).toMatchObject(links);
      const changed = expectStatus(
        await call<ClientBody>('PATCH', `/clients/${created.client_id}`, { logo_uri: '' }),
        200,
      );
      expect(changed).toMatchObject({ ...links, logo_uri: null });
      expectFieldError(await call('PATCH', `/clients/${created.client_id}`, { tos_uri: 'ftp://x' }), 'tos_uri');
      expectFieldError(await call('PATCH', `/clients/${created.client_id}`, { policy_uri: 'not a url' }), 'policy_uri');
    });

    it('answers a change with the client as it is now stored (updated_at included)', async () => {
      const created = await confidential();
      await new Promise((resolve) => {
        setTimeout(resolve, 5);
      });
      const changed = expectStatus(
        await call<ClientBody>('PATCH', `/clients/${created.client_id}`, { first_party: false }),
        200,
      );
      const { client_secret: _secret, ...stored } = changed;
      expect(stored).toEqual(expectStatus(await call<ClientBody>('GET', `/clients/${created.client_id}`), 200));
      expect(changed.updated_at).not.toBe(created.updated_at);
    });

    it('makes a client third-party: its users see the consent page from then on', async () => {
      const created = await confidential();
      const client = testClientOf(created);
      expect((await signIn(server, { client })).pages).toEqual(['login']);
      expectStatus(await call('PATCH', `/clients/${created.client_id}`, { first_party: false }), 200);
      expect((await signIn(server, { client, consent: 'allow' })).pages).toEqual(['login', 'consent']);
    });

    it('turns a public client confidential: a secret is issued once and works; back to public drops it', async () => {
      const spa = await create({ name: 'SPA', redirect_uris: [CALLBACK], public: true, first_party: true });
      const confidentialAgain = expectStatus(
        await call<ClientBody>('PATCH', `/clients/${spa.client_id}`, { public: false }),
        200,
      );
      expect(confidentialAgain).toMatchObject({
        public: false,
        token_endpoint_auth_method: 'client_secret_basic',
        client_secret: expect.any(String),
      });
      const client = testClientOf(confidentialAgain);
      expect((await signIn(server, { client })).tokens.id_token).toEqual(expect.any(String));
      // The secret is not issued again on the next change.
      expect(
        expectStatus(await call<ClientBody>('PATCH', `/clients/${spa.client_id}`, { name: 'Web app' }), 200)
          .client_secret,
      ).toBeNull();

      const publicAgain = expectStatus(
        await call<ClientBody>('PATCH', `/clients/${spa.client_id}`, { public: true }),
        200,
      );
      expect(publicAgain).toMatchObject({ public: true, token_endpoint_auth_method: 'none', client_secret: null });
      expect((await signIn(server, { client: testClientOf(publicAgain) })).tokens.id_token).toEqual(expect.any(String));
      const rp = await discoverRp(server.issuer, client);
      expect((await postToken(rp, client, { grant_type: 'client_credentials' })).status).toBe(401);
    });

    it('rotates the secret: the old one becomes invalid_client, the new one works', async () => {
      const created = await confidential({ grant_types: ['client_credentials'], redirect_uris: [] });
      const rotated = expectStatus(
        await call<{ client_id: string; client_secret: string }>('POST', `/clients/${created.client_id}/secret`),
        200,
      );
      expect(rotated.client_id).toBe(created.client_id);
      expect(rotated.client_secret).not.toBe(created.client_secret);
      const rp = await discoverRp(server.issuer, testClientOf(created));
      expect(await postToken(rp, testClientOf(created), { grant_type: 'client_credentials' })).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
      const fresh = testClientOf(created, rotated.client_secret);
      expect(await postToken(rp, fresh, { grant_type: 'client_credentials' })).toMatchObject({ status: 200 });
    });

    it('refuses to rotate the secret of a public client (400 naming the auth method)', async () => {
      const spa = await create({ name: 'SPA', redirect_uris: [CALLBACK], public: true });
      expectFieldError(await call('POST', `/clients/${spa.client_id}/secret`), 'token_endpoint_auth_method');
    });
  });

  describe('delete', () => {
    it('deletes a client: it gets no more tokens and its refresh tokens die', async () => {
      const created = await confidential({
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      });
      const client = testClientOf(created);
      const { tokens, rp } = await signIn(server, { client, params: OFFLINE });
      const refreshToken = refreshTokenOf(tokens);

      expectStatus(await call('DELETE', `/clients/${created.client_id}`), 204);
      expect((await call('GET', `/clients/${created.client_id}`)).status).toBe(404);
      expect(await postToken(rp, client, { grant_type: 'client_credentials' })).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
      expect(await postToken(rp, client, { grant_type: 'refresh_token', refresh_token: refreshToken })).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
      const row = await server.gatehouse.storage.storage.oidc.find(
        'RefreshToken',
        server.gatehouse.tokenDigest.storedId('RefreshToken', refreshToken),
      );
      expect(row).toBeUndefined();
    });
  });

  describe('machine admins', () => {
    const machine = (adminScopes: string[]) =>
      create({ name: 'Robot', grant_types: ['client_credentials'], scope: 'openid', admin_scopes: adminScopes });
    const adminCallOf = async (created: ClientBody, scope: string) => {
      const rp = await discoverRp(server.issuer, testClientOf(created));
      return apiAs(server, (await oidc.clientCredentialsGrant(rp, { scope })).access_token);
    };

    it('registers a client holding admin:read that can read the admin API but not write it', async () => {
      const robot = await machine(['admin:read']);
      expect(robot).toMatchObject({ admin_scopes: ['admin:read'], grant_types: ['client_credentials'] });
      const robotCall = await adminCallOf(robot, 'admin:read');
      expect((await robotCall('GET', `/clients/${robot.client_id}`)).status).toBe(200);
      expect((await robotCall('POST', '/roles', { name: 'robots' })).status).toBe(403);
      expectFieldError(
        await call('POST', '/clients', { name: 'Bad robot', redirect_uris: [CALLBACK], admin_scopes: ['admin:read'] }),
        'admin_scopes',
      );
    });

    it('deleting a machine admin ends its admin API token at once', async () => {
      const robot = await machine(['admin:read']);
      const robotCall = await adminCallOf(robot, 'admin:read');
      expect((await robotCall('GET', '/roles')).status).toBe(200);
      expectStatus(await call('DELETE', `/clients/${robot.client_id}`), 204);
      expect((await robotCall('GET', '/roles')).status).toBe(401);
    });

    it("taking admin scopes away ends the client's admin API tokens at once", async () => {
      const robot = await machine(['admin:read', 'admin:write']);
      const robotCall = await adminCallOf(robot, 'admin:write');
      expect((await robotCall('GET', '/roles')).status).toBe(200);
      expect(
        expectStatus(
          await call<ClientBody>('PATCH', `/clients/${robot.client_id}`, { admin_scopes: ['admin:read'] }),
          200,
        ).admin_scopes,
      ).toEqual(['admin:read']);
      expect((await robotCall('GET', '/roles')).status).toBe(401);
      // A new token holds what the client holds now: it reads, and asking for admin:write gets no write.
      const reader = await adminCallOf(robot, 'admin:read admin:write');
      expect((await reader('GET', '/roles')).status).toBe(200);
      expect((await reader('POST', '/roles', { name: 'robots' })).status).toBe(403);
    });
  });

  describe('validation', () => {
    it.each([
      ['a non-loopback http redirect URI', { redirect_uris: ['http://example.com/cb'] }, 'redirect_uris'],
      ['a redirect URI with a fragment', { redirect_uris: ['https://rp.example.test/cb#frag'] }, 'redirect_uris'],
      ['a wildcard redirect URI', { redirect_uris: ['https://*.example.test/cb'] }, 'redirect_uris'],
      ['an unknown grant type', { grant_types: ['password'] }, 'grant_types.0'],
      ['an unknown field', { colour: 'blue' }, 'colour'],
      ['a field of the wrong type', { public: 'yes' }, 'public'],
      ['a name of the wrong type', { name: 42 }, 'name'],
      ['an unknown scope', { scope: 'openid telepathy' }, 'scope'],
      [
        'a post-logout URI over http elsewhere',
        { post_logout_redirect_uris: ['http://example.com/bye'] },
        'post_logout_redirect_uris',
      ],
    ])('refuses %s with a 400 naming the field, on create and on change', async (_label, fields, field) => {
      const before = (await allPages<ClientBody>(call, '/clients?limit=200')).flatMap((p) => p.items).length;
      const refused = await call('POST', '/clients', { name: 'Bad', redirect_uris: [CALLBACK], ...fields });
      expectFieldError(refused, field);
      expect((await allPages<ClientBody>(call, '/clients?limit=200')).flatMap((p) => p.items)).toHaveLength(before);

      const existing = await confidential();
      expectFieldError(await call('PATCH', `/clients/${existing.client_id}`, fields), field);
      expect(expectStatus(await call<ClientBody>('GET', `/clients/${existing.client_id}`), 200)).toMatchObject({
        name: 'Shop',
        redirect_uris: [CALLBACK],
      });
    });

    it('refuses a body that is not JSON with 415 and malformed JSON with 400', async () => {
      expect(
        (await call('POST', '/clients', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' })).status,
      ).toBe(415);
      expect((await call('POST', '/clients', '{"name":', { 'content-type': 'application/json' })).status).toBe(400);
    });
  });

  describe("Gatehouse's own clients", () => {
    it.each(['gatehouse-account', 'gatehouse-admin'])('can read %s but not change, re-key or delete it', async (id) => {
      const before = expectStatus(await call<ClientBody>('GET', `/clients/${id}`), 200);
      expectFieldError(await call('PATCH', `/clients/${id}`, { redirect_uris: [OTHER_CALLBACK] }), 'client_id');
      expectFieldError(await call('POST', `/clients/${id}/secret`), 'client_id');
      expectFieldError(await call('DELETE', `/clients/${id}`), 'client_id');
      expect(expectStatus(await call<ClientBody>('GET', `/clients/${id}`), 200)).toEqual(before);
    });
  });

  describe('approval queue', () => {
    const pendingClient = async () => {
      const created = await confidential({ grant_types: ['client_credentials'], redirect_uris: [] });
      await server.gatehouse.storage.storage.clients.update(created.client_id, { status: 'pending' });
      return created;
    };

    it('approves a pending client, which can then get tokens', async () => {
      const created = await pendingClient();
      const rp = await discoverRp(server.issuer, testClientOf(created));
      const approved = expectStatus(await call<ClientBody>('POST', `/clients/${created.client_id}/approve`), 200);
      expect(approved).toMatchObject({ client_id: created.client_id, status: 'active' });
      expect(expectStatus(await call<ClientBody>('GET', `/clients/${created.client_id}`), 200)).toEqual(approved);
      expect(await postToken(rp, testClientOf(created), { grant_type: 'client_credentials' })).toMatchObject({
        status: 200,
      });
    });

    it('rejects a pending client: it is deleted', async () => {
      const created = await pendingClient();
      expectStatus(await call('POST', `/clients/${created.client_id}/reject`), 204);
      expect((await call('GET', `/clients/${created.client_id}`)).status).toBe(404);
    });

    it('refuses to approve or reject an active client (400 naming status)', async () => {
      const active = await confidential();
      expectFieldError(await call('POST', `/clients/${active.client_id}/approve`), 'status');
      expectFieldError(await call('POST', `/clients/${active.client_id}/reject`), 'status');
      expect(expectStatus(await call<ClientBody>('GET', `/clients/${active.client_id}`), 200).status).toBe('active');
    });
  });

  it('rejects unknown query parameters and answers 405 for an unsupported method', async () => {
    expectFieldError(await call('GET', '/clients?colour=blue'), 'colour');
    expect((await call('PUT', '/clients')).status).toBe(405);
  });
});
