import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import {
  API,
  adminToken,
  apiAs,
  expectFieldError,
  expectStatus,
  useAdminApi,
  type ApiResponse,
} from '../../helpers/admin-api.js';
import { runSql } from '../../../src/storage/data-source.js';

type Json = Record<string, unknown>;

interface ConnectionBody {
  id: string;
  display_name: string;
  preset: string;
  kind: string;
  issuer: string | null;
  client_id: string;
  has_secret: boolean;
  scopes: string[] | null;
  claim_mapping: Record<string, string>;
  enabled: boolean;
  order: number;
  role_rules: Json[];
  options: Record<string, string>;
  redirect_uri: string;
  created_at: string;
  updated_at: string;
}

interface IdentityBody {
  connection: string;
  connection_name: string;
  email: string | null;
  created_at: string;
  last_used_at: string | null;
}

const slug = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;
const SECRET = `upstream-secret-${randomBytes(12).toString('hex')}`;
const pem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Every member name anywhere in a JSON value. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
  return [];
}

/** /admin/api/v1/connections and /users/:id/identities (issue 17): upstream identity providers as an admin manages them. */
describe.each(HTTP_BACKENDS)('admin API connections (%s)', (backend) => {
  const { server, call } = useAdminApi(backend);

  const oidcConnection = (id: string, extra: Json = {}) => ({
    id,
    display_name: `Corp ${id}`,
    kind: 'oidc',
    issuer: 'https://login.corp.example',
    client_id: 'gatehouse-at-corp',
    client_secret: SECRET,
    ...extra,
  });
  const storage = () => server.gatehouse.storage.storage;
  const sealedRow = async (id: string) =>
    (
      await runSql<{ secret_sealed: string | null; settings: unknown }>(
        storage().dataSource,
        'SELECT secret_sealed, settings FROM connections WHERE id = $1',
        [id],
      )
    ).rows[0];

  it('creates, lists, reads, changes and deletes a connection', async () => {
    const id = slug('corp');
    const created = expectStatus(
      await call<ConnectionBody>(
        'POST',
        '/connections',
        oidcConnection(id, {
          scopes: ['openid', 'email', 'groups'],
          claim_mapping: { email_verified: 'verified_email' },
          create_accounts: true,
          role_rules: [
            { group: 'staff', role: 'admin' },
            { email_domain: 'corp.example', role: 'admin' },
          ],
        }),
      ),
      201,
    );
    expect(created).toMatchObject({
      id,
      display_name: `Corp ${id}`,
      preset: 'custom',
      kind: 'oidc',
      issuer: 'https://login.corp.example',
      client_id: 'gatehouse-at-corp',
      has_secret: true,
      scopes: ['openid', 'email', 'groups'],
      claim_mapping: { email_verified: 'verified_email' },
      enabled: true,
      order: 0,
      create_accounts: true,
      role_rules: [
        { group: 'staff', role: 'admin' },
        { email_domain: 'corp.example', role: 'admin' },
      ],
      allowed_clients: null,
      redirect_uri: `${server.issuer}/federation/${id}/callback`,
      post_logout_redirect_uri: `${server.issuer}/federation/${id}/signed-out`,
    });

    const listed = expectStatus(await call<{ items: ConnectionBody[] }>('GET', '/connections'), 200).items;
    expect(listed.find((c) => c.id === id)).toEqual(created);
    expect(expectStatus(await call<ConnectionBody>('GET', `/connections/${id}`), 200)).toEqual(created);

    const changed = expectStatus(
      await call<ConnectionBody>('PATCH', `/connections/${id}`, {
        display_name: 'Corp SSO',
        enabled: false,
        order: 3,
        scopes: null,
      }),
      200,
    );
    expect(changed).toMatchObject({
      id,
      display_name: 'Corp SSO',
      enabled: false,
      order: 3,
      scopes: null,
      has_secret: true,
      create_accounts: true,
      client_id: 'gatehouse-at-corp',
    });
    expect(expectStatus(await call<ConnectionBody>('GET', `/connections/${id}`), 200)).toEqual(changed);

    expectStatus(await call('DELETE', `/connections/${id}`), 204);
    expect((await call('GET', `/connections/${id}`)).status).toBe(404);
    expect(
      expectStatus(await call<{ items: ConnectionBody[] }>('GET', '/connections'), 200).items.map((c) => c.id),
    ).not.toContain(id);
    const actions = (await storage().audit.query({ action: 'connection.', limit: 50 }))
      .filter((e) => e.details.connection === id)
      .map((e) => e.action);
    expect(actions.sort()).toEqual(['connection.created', 'connection.deleted', 'connection.updated']);
  });

  it('never returns the secret or key, and keeps them sealed in the row', async () => {
    const id = slug('sealed');
    const responses: Array<ApiResponse<unknown>> = [await call('POST', '/connections', oidcConnection(id))];
    responses.push(await call('GET', `/connections/${id}`), await call('GET', '/connections'));
    responses.push(await call('PATCH', `/connections/${id}`, { client_secret: `${SECRET}-rotated` }));
    for (const response of responses) {
      expect(response.status).toBeLessThan(300);
      const text = JSON.stringify(response.body);
      expect(text).not.toContain(SECRET);
      expect(keysOf(response.body).filter((k) => /secret|private_key$/.test(k))).toEqual(
        keysOf(response.body).filter((k) => k === 'has_secret'),
      );
    }
    const row = await sealedRow(id);
    expect(row?.secret_sealed).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(SECRET);
    const opened = await server.gatehouse.admin.connections.open(id);
    expect(opened?.secret).toBe(`${SECRET}-rotated`);

    // A change without a secret keeps the sealed one.
    const before = row?.secret_sealed;
    expectStatus(await call('PATCH', `/connections/${id}`, { display_name: 'Renamed' }), 200);
    expect((await sealedRow(id))?.secret_sealed).toBe(before);

    // Apple: the private key is write-only too.
    const apple = slug('apple');
    const key = pem();
    const created = expectStatus(
      await call<ConnectionBody>('POST', '/connections', {
        id: apple,
        display_name: 'Apple',
        preset: 'apple',
        client_id: 'com.example.web',
        private_key: key,
        options: { team_id: 'ABCDE12345', key_id: 'KEY1234567' },
      }),
      201,
    );
    expect(created).toMatchObject({
      preset: 'apple',
      kind: 'oidc',
      has_secret: true,
      options: { team_id: 'ABCDE12345', key_id: 'KEY1234567' },
    });
    expect(JSON.stringify(created)).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(await sealedRow(apple))).not.toContain('PRIVATE KEY');
  });

  it('refuses bad input with 400 naming the field, and writes nothing', async () => {
    const id = slug('bad');
    expectFieldError(await call('POST', '/connections', oidcConnection('Not A Slug')), 'id');
    expectFieldError(
      await call('POST', '/connections', oidcConnection(id, { issuer: 'http://login.corp.example' })),
      'issuer',
    );
    expectFieldError(await call('POST', '/connections', oidcConnection(id, { preset: 'myspace' })), 'preset');
    expectFieldError(await call('POST', '/connections', oidcConnection(id, { enabled: 'yes' })), 'enabled');
    expectFieldError(
      await call('POST', '/connections', oidcConnection(id, { claim_mapping: { email_verified: 'has space' } })),
      'claim_mapping.email_verified',
    );
    expectFieldError(
      await call(
        'POST',
        '/connections',
        oidcConnection(id, { role_rules: [{ group: 'staff', role: 'no-such-role' }] }),
      ),
      'role_rules.0.role',
    );
    expectFieldError(
      await call('POST', '/connections', oidcConnection(id, { options: { hosted_domain: 'not a domain' } })),
      'options.hosted_domain',
    );
    expectFieldError(await call('POST', '/connections', oidcConnection(id, { private_key: pem() })), 'private_key');
    expectFieldError(
      await call('POST', '/connections', oidcConnection(id, { clientSecret: 'camelCase' })),
      'clientSecret',
    );
    expectFieldError(await call('POST', '/connections', { id, display_name: 'No client id' }), 'client_id');
    expect((await call('GET', `/connections/${id}`)).status).toBe(404);

    expectStatus(await call('POST', '/connections', oidcConnection(id)), 201);
    expectFieldError(await call('PATCH', `/connections/${id}`, { id: 'renamed' }), 'id');
    expectFieldError(
      await call('PATCH', `/connections/${id}`, { token_endpoint: 'ftp://corp.example/token' }),
      'token_endpoint',
    );
    expect(expectStatus(await call<ConnectionBody>('GET', `/connections/${id}`), 200).display_name).toBe(`Corp ${id}`);
  });

  it('answers 409 for a duplicate id and 404 for a connection that does not exist', async () => {
    const id = slug('dup');
    expectStatus(await call('POST', '/connections', oidcConnection(id)), 201);
    expectFieldError(await call('POST', '/connections', oidcConnection(id, { display_name: 'Another' })), 'id', 409);
    expect(expectStatus(await call<ConnectionBody>('GET', `/connections/${id}`), 200).display_name).toBe(`Corp ${id}`);
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { enabled: false }],
      ['DELETE', undefined],
    ] as const) {
      const response = await call(method, '/connections/no-such-connection', body);
      expect({ method, status: response.status, error: response.body.error }).toEqual({
        method,
        status: 404,
        error: 'not_found',
      });
    }
  });

  it('lets a read-only token read connections but not change them', async () => {
    const id = slug('ro');
    expectStatus(await call('POST', '/connections', oidcConnection(id)), 201);
    const reader = apiAs(server, await adminToken(server, 'admin:read', ['admin:read']));
    expectStatus(await reader('GET', '/connections'), 200);
    expectStatus(await reader('GET', `/connections/${id}`), 200);
    expect((await reader('POST', '/connections', oidcConnection(slug('ro')))).status).toBe(403);
    expect((await reader('PATCH', `/connections/${id}`, { enabled: false })).status).toBe(403);
    expect((await reader('DELETE', `/connections/${id}`)).status).toBe(403);
    expect((await apiAs(server, 'not-a-token')('GET', '/connections')).status).toBe(401);
    expect(expectStatus(await call<ConnectionBody>('GET', `/connections/${id}`), 200).enabled).toBe(true);
  });

  describe("a user's linked identities", () => {
    const link = async (userId: string, connectionId: string) =>
      storage().identities.link({
        connectionId,
        subject: `sub-${randomBytes(4).toString('hex')}`,
        userId,
        email: 'person@corp.example',
      });

    it("lists them and removes one, audited as the admin's action", async () => {
      const [first, second] = [slug('first'), slug('second')];
      expectStatus(await call('POST', '/connections', oidcConnection(first)), 201);
      expectStatus(await call('POST', '/connections', oidcConnection(second, { display_name: 'Second' })), 201);
      const user = await server.buildUser();
      await link(user.id, first);
      await link(user.id, second);

      const listed = expectStatus(
        await call<{ items: IdentityBody[] }>('GET', `/users/${user.id}/identities`),
        200,
      ).items;
      expect(listed).toEqual([
        {
          connection: first,
          connection_name: `Corp ${first}`,
          email: 'person@corp.example',
          created_at: expect.any(String),
          last_used_at: expect.any(String),
        },
        {
          connection: second,
          connection_name: 'Second',
          email: 'person@corp.example',
          created_at: expect.any(String),
          last_used_at: expect.any(String),
        },
      ]);

      expectStatus(await call('DELETE', `/users/${user.id}/identities/${first}`), 204);
      expect(
        expectStatus(await call<{ items: IdentityBody[] }>('GET', `/users/${user.id}/identities`), 200).items.map(
          (i) => i.connection,
        ),
      ).toEqual([second]);
      const [event] = await storage().audit.query({
        subjectId: user.id,
        action: 'federation.identity_unlinked',
        limit: 1,
      });
      expect(event).toMatchObject({
        actorId: null,
        clientId: expect.any(String),
        details: { connection: first, byAdmin: true, signInMethodLeft: true },
      });

      // Deleting a connection removes the identities linked through it.
      expectStatus(await call('DELETE', `/connections/${second}`), 204);
      expect(
        expectStatus(await call<{ items: IdentityBody[] }>('GET', `/users/${user.id}/identities`), 200).items,
      ).toEqual([]);
    });

    it('removes even the last way to sign in, and the audit event says so', async () => {
      const id = slug('only');
      expectStatus(await call('POST', '/connections', oidcConnection(id)), 201);
      // A user the admin made without a password: the identity is the only way in.
      const user = expectStatus(
        await call<{ id: string }>('POST', '/users', { email: `fed-${randomBytes(4).toString('hex')}@example.test` }),
        201,
      );
      await link(user.id, id);
      // The person's own unlink would be refused (test/services/federation.suite.ts); an admin's is
      // not: an admin can give the account a password or a reset link.
      expectStatus(await call('DELETE', `/users/${user.id}/identities/${id}`), 204);
      const [event] = await storage().audit.query({
        subjectId: user.id,
        action: 'federation.identity_unlinked',
        limit: 1,
      });
      expect(event?.details).toEqual({ connection: id, byAdmin: true, signInMethodLeft: false });
    });

    it('answers 404 for an unknown user or an identity that is not linked, and refuses a read-only token', async () => {
      const id = slug('nf');
      expectStatus(await call('POST', '/connections', oidcConnection(id)), 201);
      const user = await server.buildUser();
      await link(user.id, id);
      const unknownUser = '00000000-0000-4000-8000-000000000000';
      expect((await call('GET', `/users/${unknownUser}/identities`)).status).toBe(404);
      expect((await call('GET', '/users/not-a-uuid/identities')).status).toBe(404);
      expect((await call('DELETE', `/users/${unknownUser}/identities/${id}`)).status).toBe(404);
      expect((await call('DELETE', `/users/${user.id}/identities/no-such-connection`)).status).toBe(404);
      const reader = apiAs(server, await adminToken(server, 'admin:read', ['admin:read']));
      expect(
        expectStatus(await reader<{ items: IdentityBody[] }>('GET', `/users/${user.id}/identities`), 200).items,
      ).toHaveLength(1);
      expect((await reader('DELETE', `/users/${user.id}/identities/${id}`)).status).toBe(403);
      expect(
        expectStatus(await call<{ items: IdentityBody[] }>('GET', `/users/${user.id}/identities`), 200).items,
      ).toHaveLength(1);
    });
  });

  it('is described by the OpenAPI document, and its responses match it', async () => {
    const doc = (await (await fetch(`${server.issuer}${API}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, { schema: Json }> }> }>
      >;
    };
    for (const operation of [
      'get /connections',
      'post /connections',
      'get /connections/{id}',
      'patch /connections/{id}',
      'delete /connections/{id}',
      'get /users/{id}/identities',
      'delete /users/{id}/identities/{connection}',
    ]) {
      const [method = '', path = ''] = operation.split(' ');
      expect({ operation, described: Boolean(doc.paths[path]?.[method]) }).toEqual({ operation, described: true });
    }
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    const conforms = (method: string, path: string, response: ApiResponse<unknown>) => {
      const schema =
        doc.paths[path]?.[method]?.responses[String(response.status)]?.content?.['application/json']?.schema;
      if (!schema) throw new Error(`no ${response.status} body documented for ${method} ${path}`);
      const resolved =
        schema.$ref === '#/components/schemas/Error'
          ? ((doc as unknown as { components: { schemas: Record<string, Json> } }).components.schemas.Error ?? {})
          : schema;
      const validate = ajv.compile(resolved);
      expect({
        op: `${method} ${path} ${response.status}`,
        errors: validate(response.body) ? [] : validate.errors,
      }).toEqual({ op: `${method} ${path} ${response.status}`, errors: [] });
    };
    const id = slug('doc');
    const created = await call(
      'POST',
      '/connections',
      oidcConnection(id, {
        role_rules: [{ email_domain: 'corp.example', role: 'admin' }],
        claim_mapping: { subject: 'oid' },
        allowed_clients: ['some-client'],
        icon: 'key',
      }),
    );
    conforms('post', '/connections', created);
    conforms(
      'post',
      '/connections',
      await call('POST', '/connections', {
        id: slug('gh'),
        display_name: 'GitHub',
        preset: 'github',
        client_id: 'gh',
        client_secret: SECRET,
        options: { base_url: 'https://github.corp.example' },
      }),
    );
    conforms('get', '/connections', await call('GET', '/connections'));
    conforms('get', '/connections/{id}', await call('GET', `/connections/${id}`));
    conforms(
      'patch',
      '/connections/{id}',
      await call('PATCH', `/connections/${id}`, {
        issuer: null,
        kind: 'oauth2',
        authorization_endpoint: 'https://corp.example/authorize',
        token_endpoint: 'https://corp.example/token',
        userinfo_endpoint: 'https://corp.example/me',
      }),
    );
    conforms('post', '/connections', await call('POST', '/connections', oidcConnection('Bad Id')));
    conforms('post', '/connections', await call('POST', '/connections', oidcConnection(id)));
    conforms('get', '/connections/{id}', await call('GET', '/connections/missing'));
    const user = await server.buildUser();
    await storage().identities.link({ connectionId: id, subject: 'doc-subject', userId: user.id, email: null });
    conforms('get', '/users/{id}/identities', await call('GET', `/users/${user.id}/identities`));
    // The validator is not vacuous: a secret in a connection body does not conform.
    const body = (await call<Json>('GET', `/connections/${id}`)).body;
    const schema = doc.paths['/connections/{id}']?.get?.responses['200']?.content?.['application/json']?.schema ?? {};
    expect(ajv.compile(schema)({ ...body, client_secret: SECRET })).toBe(false);
  });
});
