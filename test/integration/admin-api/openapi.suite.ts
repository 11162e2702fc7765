import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { randomBytes } from 'node:crypto';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { signIn } from '../../helpers/tokens.js';
import { API, adminToken, apiAs, expectStatus, type ApiResponse, useAdminApi } from '../../helpers/admin-api.js';

type Json = Record<string, unknown>;
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  servers: Array<{ url: string }>;
  components: { schemas: Record<string, Json>; securitySchemes: Json };
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        security: unknown;
        parameters: Json[];
        requestBody?: Json;
        responses: Record<string, { content?: Record<string, { schema: Json }> }>;
      }
    >
  >;
}

/** Every operation of the v1 contract: the document must describe each, and no other. */
const OPERATIONS = [
  'GET /clients',
  'POST /clients',
  'GET /clients/{id}',
  'PATCH /clients/{id}',
  'DELETE /clients/{id}',
  'POST /clients/{id}/secret',
  'POST /clients/{id}/approve',
  'POST /clients/{id}/reject',
  'GET /users',
  'POST /users',
  'POST /users/import',
  'GET /users/{id}',
  'PATCH /users/{id}',
  'DELETE /users/{id}',
  'POST /users/{id}/disable',
  'POST /users/{id}/enable',
  'PUT /users/{id}/password',
  'POST /users/{id}/second-factors/reset',
  'DELETE /users/{id}/second-factors/{channel}',
  'POST /users/{id}/unlock',
  'GET /roles',
  'POST /roles',
  'GET /roles/{name}',
  'GET /subjects',
  'PATCH /roles/{name}',
  'DELETE /roles/{name}',
  'PUT /users/{id}/roles/{role}',
  'DELETE /users/{id}/roles/{role}',
  'GET /users/{id}/sessions',
  'DELETE /users/{id}/sessions',
  'DELETE /users/{id}/sessions/{session}',
  'GET /users/{id}/grants',
  'DELETE /users/{id}/grants/{grant}',
  'GET /keys',
  'POST /keys/rotate',
  'GET /audit-events',
  'GET /activity',
  'GET /initial-access-tokens',
  'POST /initial-access-tokens',
  'DELETE /initial-access-tokens/{id}',
  'GET /connections',
  'POST /connections',
  'GET /connections/{id}',
  'PATCH /connections/{id}',
  'DELETE /connections/{id}',
  'GET /users/{id}/identities',
  'DELETE /users/{id}/identities/{connection}',
  'GET /resources',
  'POST /resources',
  'GET /resources/{id}',
  'PATCH /resources/{id}',
  'DELETE /resources/{id}',
  'POST /resources/{id}/permissions',
  'DELETE /resources/{id}/permissions/{permission}',
  'GET /roles/{name}/permissions',
  'POST /roles/{name}/permissions',
  'DELETE /roles/{name}/permissions/{permission}',
  'GET /clients/{id}/permissions',
  'POST /clients/{id}/permissions',
  'DELETE /clients/{id}/permissions/{permission}',
  'GET /clients/{id}/token-exchange',
  'PUT /clients/{id}/token-exchange',
  'DELETE /clients/{id}/token-exchange',
  'GET /attributes',
  'POST /attributes',
  'PATCH /attributes/{name}',
  'DELETE /attributes/{name}',
  'GET /users/{id}/attributes',
  'PATCH /users/{id}/attributes',
];

/**
 * Validates live responses against the schema the document gives for their path, method and
 * status, with a JSON Schema 2020-12 validator in strict mode (an unknown keyword is an error).
 */
function responseValidator(doc: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const compiled = new Map<string, ValidateFunction>();
  /** The document's own `$ref: '#/components/schemas/X'`, resolved. */
  const resolve = (schema: Json): Json => {
    const ref = schema.$ref;
    if (typeof ref !== 'string') return schema;
    const name = /^#\/components\/schemas\/(\w+)$/.exec(ref)?.[1];
    const target = name ? doc.components.schemas[name] : undefined;
    if (!target) throw new Error(`unresolvable $ref ${ref}`);
    return target;
  };
  return {
    schemaOf(method: string, template: string, status: number): Json | undefined {
      const operation = doc.paths[template]?.[method.toLowerCase()];
      if (!operation) throw new Error(`the document has no ${method} ${template}`);
      const response = operation.responses[String(status)];
      if (!response) throw new Error(`the document gives no ${status} response for ${method} ${template}`);
      const schema = response.content?.['application/json']?.schema;
      return schema && resolve(schema);
    },
    /** Errors of the body against the schema; [] when it conforms. */
    check(method: string, template: string, response: ApiResponse<unknown>): string[] {
      const key = `${method} ${template} ${response.status}`;
      const schema = this.schemaOf(method, template, response.status);
      if (!schema)
        return response.headers.get('content-length') === '0' || response.status === 204
          ? []
          : ['the document gives no body but one came'];
      let validate = compiled.get(key);
      if (!validate) {
        validate = ajv.compile(schema);
        compiled.set(key, validate);
      }
      return validate(response.body)
        ? []
        : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
    },
  };
}

describe.each(HTTP_BACKENDS)('admin API OpenAPI document (%s)', (backend) => {
  let doc: OpenApiDocument;
  let validator: ReturnType<typeof responseValidator>;
  const { server, call } = useAdminApi(backend);
  beforeAll(async () => {
    const response = await fetch(`${server.issuer}${API}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await response.json()) as OpenApiDocument;
    validator = responseValidator(doc);
  });

  /** Calls a route and checks the response against the document: `template` is the documented path. */
  async function conforming<T = Json>(
    method: string,
    template: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>> {
    const response = await call<T>(method, path, body, headers);
    expect({
      operation: `${method} ${template} → ${response.status}`,
      problems: validator.check(method, template, response),
    }).toEqual({ operation: `${method} ${template} → ${response.status}`, problems: [] });
    return response;
  }

  it('is an OpenAPI 3.1.0 document, public, that lists every operation and no other', async () => {
    expect(doc).toMatchObject({
      openapi: '3.1.0',
      info: { title: expect.any(String), version: expect.stringMatching(/^1\.\d+\.\d+$/) },
    });
    expect(doc.servers).toEqual([{ url: `${server.issuer}${API}` }]);
    const listed = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect([...listed].sort()).toEqual([...OPERATIONS].sort());
    const ids = Object.values(doc.paths).flatMap((operations) => Object.values(operations).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents path parameters and a success response for every operation, and its schemas compile in strict mode', () => {
    const ajv = new Ajv2020({ strict: true });
    for (const [path, operations] of Object.entries(doc.paths)) {
      const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, operation] of Object.entries(operations)) {
        const documented = operation.parameters.filter((p) => p.in === 'path').map((p) => p.name);
        expect({ op: `${method} ${path}`, params: documented }).toEqual({
          op: `${method} ${path}`,
          params: pathParams,
        });
        const success = Object.keys(operation.responses).filter((s) => s.startsWith('2'));
        expect({ op: `${method} ${path}`, success: success.length }).toEqual({ op: `${method} ${path}`, success: 1 });
        for (const status of Object.keys(operation.responses)) {
          const schema = validator.schemaOf(method, path, Number(status));
          if (schema) expect(() => ajv.compile(schema)).not.toThrow();
        }
        const requestSchema = (operation.requestBody?.content as Record<string, { schema: Json }> | undefined)?.[
          'application/json'
        ]?.schema;
        if (requestSchema) expect(() => ajv.compile(requestSchema)).not.toThrow();
      }
    }
  });

  it('describes live responses: users, a user, a new client, roles, audit events, activity, keys', async () => {
    const created = expectStatus(
      await conforming<{ id: string }>('POST', '/users', '/users', {
        email: `doc-${randomBytes(4).toString('hex')}@example.test`,
        name: null,
      }),
      201,
    );
    await conforming('GET', '/users', '/users?limit=2');
    const detail = await conforming('GET', '/users/{id}', `/users/${created.id}`);
    await conforming('POST', '/users/{id}/unlock', `/users/${created.id}/unlock`);
    // The validator is not vacuous: the same body with a member too many or one missing fails.
    expect(
      validator.check('GET', '/users/{id}', { ...detail, body: { ...detail.body, password_hash: 'x' } }),
    ).not.toEqual([]);
    const { roles: _roles, ...withoutRoles } = detail.body as Json;
    expect(validator.check('GET', '/users/{id}', { ...detail, body: withoutRoles })).not.toEqual([]);
    await conforming('PATCH', '/users/{id}', `/users/${created.id}`, { name: 'Documented' });
    await conforming('POST', '/users/{id}/disable', `/users/${created.id}/disable`);
    await conforming('POST', '/users/{id}/enable', `/users/${created.id}/enable`);
    await conforming('POST', '/users/{id}/second-factors/reset', `/users/${created.id}/second-factors/reset`);

    const confidential = expectStatus(
      await conforming<{ client_id: string }>('POST', '/clients', '/clients', {
        name: 'Documented',
        redirect_uris: ['https://rp.example.test/cb'],
      }),
      201,
    );
    await conforming('POST', '/clients', '/clients', {
      name: 'Public',
      redirect_uris: ['https://rp.example.test/cb'],
      public: true,
    });
    await conforming('GET', '/clients', '/clients?limit=2');
    await conforming('GET', '/clients/{id}', `/clients/${confidential.client_id}`);
    await conforming('GET', '/clients/{id}', '/clients/gatehouse-account');
    await conforming('PATCH', '/clients/{id}', `/clients/${confidential.client_id}`, { mfa: 'required' });
    await conforming('POST', '/clients/{id}/secret', `/clients/${confidential.client_id}/secret`);

    const role = `doc-${randomBytes(3).toString('hex')}`;
    await conforming('POST', '/roles', '/roles', { name: role });
    await conforming('GET', '/roles', '/roles');
    await conforming('GET', '/roles/{name}', `/roles/${role}`);
    await conforming('PUT', '/users/{id}/roles/{role}', `/users/${created.id}/roles/${role}`);
    await conforming('DELETE', '/users/{id}/roles/{role}', `/users/${created.id}/roles/${role}`);

    await conforming('GET', '/audit-events', '/audit-events?limit=5');
    await conforming('GET', '/audit-events', '/audit-events?action=client.&limit=200');
    await conforming('GET', '/activity', '/activity?range=24h');
    await conforming('GET', '/keys', '/keys');
    await conforming('POST', '/keys/rotate', '/keys/rotate');
    await conforming('GET', '/keys', '/keys');
  });

  it('describes live sessions, grants and an import', async () => {
    const { user } = await signIn(server, { params: { scope: 'openid offline_access', prompt: 'consent' } });
    await conforming('GET', '/users/{id}/sessions', `/users/${user.id}/sessions`);
    await conforming('GET', '/users/{id}/grants', `/users/${user.id}/grants`);
    await conforming(
      'POST',
      '/users/import',
      '/users/import',
      `${JSON.stringify({ email: `doc-${randomBytes(4).toString('hex')}@example.test` })}\n`,
      { 'content-type': 'application/x-ndjson' },
    );
  });

  it('describes live resources, permissions, their grants and a token exchange policy', async () => {
    const suffix = randomBytes(3).toString('hex');
    const resource = expectStatus(
      await conforming<{ id: string; indicator: string }>('POST', '/resources', '/resources', {
        indicator: `https://doc-${suffix}.example.test/api`,
        name: 'Documented API',
        permissions_claim: true,
      }),
      201,
    );
    await conforming('GET', '/resources', '/resources');
    await conforming('POST', '/resources/{id}/permissions', `/resources/${resource.id}/permissions`, {
      name: 'doc:read',
      description: 'Read documents',
    });
    await conforming('GET', '/resources/{id}', `/resources/${resource.id}`);
    await conforming('PATCH', '/resources/{id}', `/resources/${resource.id}`, { access_token_ttl: 600 });
    const role = `doc-perm-${suffix}`;
    await conforming('POST', '/roles', '/roles', { name: role });
    const grant = { resource: resource.indicator, permission: 'doc:read' };
    await conforming('POST', '/roles/{name}/permissions', `/roles/${role}/permissions`, grant);
    await conforming('GET', '/roles/{name}/permissions', `/roles/${role}/permissions`);
    const q = `?resource=${encodeURIComponent(resource.id)}`;
    await conforming('DELETE', '/roles/{name}/permissions/{permission}', `/roles/${role}/permissions/doc:read${q}`);
    const machine = expectStatus(
      await conforming<{ client_id: string }>('POST', '/clients', '/clients', {
        name: 'Documented machine',
        grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
        redirect_uris: [],
      }),
      201,
    );
    const cid = machine.client_id;
    await conforming('POST', '/clients/{id}/permissions', `/clients/${cid}/permissions`, grant);
    await conforming('GET', '/clients/{id}/permissions', `/clients/${cid}/permissions`);
    await conforming('DELETE', '/clients/{id}/permissions/{permission}', `/clients/${cid}/permissions/doc:read${q}`);
    await conforming('PUT', '/clients/{id}/token-exchange', `/clients/${cid}/token-exchange`, {
      targets: [resource.indicator],
    });
    await conforming('GET', '/clients/{id}/token-exchange', `/clients/${cid}/token-exchange`);
    await conforming('DELETE', '/clients/{id}/token-exchange', `/clients/${cid}/token-exchange`);
    await conforming(
      'DELETE',
      '/resources/{id}/permissions/{permission}',
      `/resources/${resource.id}/permissions/doc:read`,
    );
    await conforming('DELETE', '/resources/{id}', `/resources/${resource.id}`);
    expect((await conforming('GET', '/resources/{id}', `/resources/${resource.id}`)).status).toBe(404);
  });

  it('describes the error responses it documents: 400 with field, 400 with problems, 401, 403, 404', async () => {
    expect((await conforming('POST', '/users', '/users', { email: 'nope' })).body).toMatchObject({ field: 'email' });
    expect((await conforming('GET', '/audit-events', '/audit-events?from=yesterday')).body).toMatchObject({
      field: 'from',
    });
    expect(
      (
        await conforming('POST', '/users/import', '/users/import', 'not json\n', {
          'content-type': 'application/x-ndjson',
        })
      ).body,
    ).toMatchObject({ problems: [{ line: 1, field: null, message: 'not valid JSON' }] });
    expect((await conforming('GET', '/clients/{id}', '/clients/no-such-client')).status).toBe(404);
    const anonymous = await apiAs(server, 'not-a-token')('GET', '/users');
    expect(anonymous.status).toBe(401);
    expect(validator.check('GET', '/users', anonymous)).toEqual([]);
    const reader = apiAs(server, await adminToken(server, 'admin:read', ['admin:read']));
    const forbidden = await reader('POST', '/roles', { name: 'nope' });
    expect(forbidden.status).toBe(403);
    expect(validator.check('POST', '/roles', forbidden)).toEqual([]);
  });

  it("describes live custom attributes and a user's values", async () => {
    const name = `doc_${randomBytes(3).toString('hex')}`;
    await conforming('POST', '/attributes', '/attributes', { name, label: 'Documented', type: 'number' });
    await conforming('GET', '/attributes', '/attributes');
    await conforming('PATCH', '/attributes/{name}', `/attributes/${name}`, { editable_by: 'user', required: true });
    const user = expectStatus(
      await conforming<{ id: string }>('POST', '/users', '/users', {
        email: `doc-${randomBytes(4).toString('hex')}@example.test`,
      }),
      201,
    );
    await conforming('PATCH', '/users/{id}/attributes', `/users/${user.id}/attributes`, { [name]: 7 });
    await conforming('GET', '/users/{id}/attributes', `/users/${user.id}/attributes`);
    expect(
      (await conforming('PATCH', '/users/{id}/attributes', `/users/${user.id}/attributes`, { [name]: 'x' })).status,
    ).toBe(400);
    await conforming('DELETE', '/attributes/{name}', `/attributes/${name}`);
  });
});
