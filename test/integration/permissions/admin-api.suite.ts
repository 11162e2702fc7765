import { randomBytes } from 'node:crypto';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { expectStatus, useAdminApi } from '../../helpers/admin-api.js';

/** /admin/api/v1/resources and the grants of permissions to roles and clients (docs/admin.md). */
describe.each(HTTP_BACKENDS)('admin API: resources and permissions (%s)', (backend) => {
  const { server, call } = useAdminApi(backend, {
    resources: [
      { indicator: 'https://configured.example.test/', scopes: ['c:read'], accessTokenTtl: 300, format: 'jwt' },
    ],
  });
  const suffix = () => randomBytes(4).toString('hex');

  it('creates, reads, changes and deletes a resource with permissions, and audits each change', async () => {
    const indicator = `https://crud-${suffix()}.example.test/api`;
    const created = expectStatus(
      await call<{ id: string; access_token_ttl: number; permissions_claim: boolean }>('POST', '/resources', {
        indicator,
        name: 'Orders',
      }),
      201,
    );
    expect(created).toMatchObject({ indicator, name: 'Orders', audience: null, permissions_claim: false });
    expectStatus(await call('POST', `/resources/${created.id}/permissions`, { name: 'orders:read' }), 201);
    expectStatus(await call('POST', `/resources/${created.id}/permissions`, { name: 'orders:write' }), 201);
    const read = expectStatus(
      await call<{ permissions: Array<{ name: string }> }>('GET', `/resources/${created.id}`),
      200,
    );
    expect(read.permissions.map((p) => p.name)).toEqual(['orders:read', 'orders:write']);
    const changed = expectStatus(
      await call('PATCH', `/resources/${created.id}`, { audience: 'urn:orders', permissions_claim: true }),
      200,
    );
    expect(changed).toMatchObject({ audience: 'urn:orders', permissions_claim: true, name: 'Orders' });
    const list = expectStatus(await call<{ items: Array<{ indicator: string }> }>('GET', '/resources'), 200);
    expect(list.items.map((r) => r.indicator)).toContain(indicator);
    expect(list.items.map((r) => r.indicator)).not.toContain('https://configured.example.test/');
    expectStatus(await call('DELETE', `/resources/${created.id}/permissions/orders:write`), 204);
    expectStatus(await call('DELETE', `/resources/${created.id}`), 204);
    expect((await call('GET', `/resources/${created.id}`)).status).toBe(404);
    const events = expectStatus(
      await call<{ items: Array<{ action: string }> }>('GET', '/audit-events?action=resource.&limit=200'),
      200,
    );
    expect(events.items.map((e) => e.action)).toEqual(
      expect.arrayContaining(['resource.created', 'resource.updated', 'resource.deleted']),
    );
  });

  it('refuses bad input with the field named, and duplicates with 409', async () => {
    const bad = async (body: unknown, field: string) => {
      const response = await call('POST', '/resources', body);
      expect({ status: response.status, field: response.body.field }).toEqual({ status: 400, field });
    };
    await bad({ indicator: 'http://plain.example.test/', name: 'x' }, 'indicator');
    await bad({ indicator: 'https://frag.example.test/#x', name: 'x' }, 'indicator');
    await bad({ indicator: 'not a url', name: 'x' }, 'indicator');
    await bad(
      { indicator: `https://ttl-${suffix()}.example.test/`, name: 'x', access_token_ttl: 5 },
      'access_token_ttl',
    );
    await bad({ indicator: `https://x-${suffix()}.example.test/`, name: 'x', extra: 1 }, 'extra');
    const configured = await call('POST', '/resources', { indicator: 'https://configured.example.test/', name: 'c' });
    expect(configured.status).toBe(409);
    const indicator = `https://dup-${suffix()}.example.test/`;
    const created = expectStatus(await call<{ id: string }>('POST', '/resources', { indicator, name: 'Dup' }), 201);
    expect((await call('POST', '/resources', { indicator, name: 'Dup' })).status).toBe(409);
    const perm = (name: string) => call('POST', `/resources/${created.id}/permissions`, { name });
    expect((await perm('has space')).body).toMatchObject({ field: 'name' });
    expect((await perm('openid')).body).toMatchObject({ field: 'name' });
    expect((await perm('admin:write')).body).toMatchObject({ field: 'name' });
    expectStatus(await perm('dup:read'), 201);
    expect((await perm('dup:read')).status).toBe(409);
    expect(
      (await call('POST', '/resources/00000000-0000-0000-0000-000000000000/permissions', { name: 'a' })).status,
    ).toBe(404);
  });

  it('grants permissions to roles and to clients, and takes them back', async () => {
    const indicator = `https://grants-${suffix()}.example.test/`;
    const resource = expectStatus(await call<{ id: string }>('POST', '/resources', { indicator, name: 'G' }), 201);
    expectStatus(await call('POST', `/resources/${resource.id}/permissions`, { name: 'g:read' }), 201);
    const role = `granter-${suffix()}`;
    expectStatus(await call('POST', '/roles', { name: role }), 201);
    const granted = expectStatus(
      await call('POST', `/roles/${role}/permissions`, { resource: indicator, permission: 'g:read' }),
      200,
    );
    expect(granted).toEqual({ role, permissions: [{ resource: indicator, permission: 'g:read' }] });
    // Idempotent.
    expectStatus(
      await call('POST', `/roles/${role}/permissions`, { resource: resource.id, permission: 'g:read' }),
      200,
    );
    expect((await call('POST', `/roles/${role}/permissions`, { resource: indicator, permission: 'nope' })).status).toBe(
      404,
    );
    expect(
      (await call('POST', `/roles/no-such-role/permissions`, { resource: indicator, permission: 'g:read' })).status,
    ).toBe(404);
    const q = `?resource=${encodeURIComponent(indicator)}`;
    expect(expectStatus(await call('DELETE', `/roles/${role}/permissions/g:read${q}`), 200)).toEqual({
      role,
      permissions: [],
    });
    expect((await call('DELETE', `/roles/${role}/permissions/g:read${q}`)).status).toBe(404);

    const client = await server.buildClient({ grantTypes: ['client_credentials'], redirectUris: [], scope: 'openid' });
    expect(
      expectStatus(
        await call('POST', `/clients/${client.clientId}/permissions`, { resource: indicator, permission: 'g:read' }),
        200,
      ),
    ).toEqual({ client_id: client.clientId, permissions: [{ resource: indicator, permission: 'g:read' }] });
    expect(
      (await call('POST', '/clients/nobody/permissions', { resource: indicator, permission: 'g:read' })).status,
    ).toBe(404);
    expectStatus(await call('DELETE', `/clients/${client.clientId}/permissions/g:read${q}`), 200);
  });

  it('sets a token exchange policy only with resources admins defined and the access token type', async () => {
    const indicator = `https://tx-${suffix()}.example.test/`;
    expectStatus(await call('POST', '/resources', { indicator, name: 'T' }), 201);
    const client = await server.buildClient({ grantTypes: ['client_credentials'], redirectUris: [], scope: 'openid' });
    const put = (body: unknown) => call('PUT', `/clients/${client.clientId}/token-exchange`, body);
    expect((await put({ targets: ['https://configured.example.test/'] })).body).toMatchObject({ field: 'targets' });
    expect((await put({ targets: [] })).body).toMatchObject({ field: 'targets' });
    expect(
      (await put({ targets: [indicator], subject_token_types: ['urn:ietf:params:oauth:token-type:id_token'] })).body,
    ).toMatchObject({
      field: 'subject_token_types',
    });
    expect((await call('GET', `/clients/${client.clientId}/token-exchange`)).status).toBe(404);
    const policy = expectStatus(
      await put({ targets: [indicator], subject_audiences: ['https://front.example.test/'] }),
      200,
    );
    expect(policy).toMatchObject({
      targets: [indicator],
      subject_audiences: ['https://front.example.test/'],
      subject_token_types: ['urn:ietf:params:oauth:token-type:access_token'],
    });
    expectStatus(await call('DELETE', `/clients/${client.clientId}/token-exchange`), 204);
    expect((await call('DELETE', `/clients/${client.clientId}/token-exchange`)).status).toBe(404);
  });
});
