import { randomBytes } from 'node:crypto';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { signIn } from '../../helpers/tokens.js';
import { expectFieldError, expectStatus, testClientOf, useAdminApi } from '../../helpers/admin-api.js';

interface RoleBody {
  name: string;
  description: string | null;
  created_at: string;
  members?: number;
}

const roleName = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;

/** /admin/api/v1/roles and /users/:id/roles/:role: roles, assignments, and the `roles` claim. */
describe.each(HTTP_BACKENDS)('admin API roles (%s)', (backend) => {
  const { server, call } = useAdminApi(backend);

  const listed = async () => expectStatus(await call<{ items: RoleBody[] }>('GET', '/roles'), 200).items;

  it('creates, reads, describes and deletes a role', async () => {
    const name = roleName('editors');
    const created = expectStatus(await call<RoleBody>('POST', '/roles', { name, description: 'People who edit' }), 201);
    expect(created).toEqual({ name, description: 'People who edit', created_at: expect.any(String) });
    expect((await listed()).map((r) => r.name)).toContain(name);
    expect(expectStatus(await call<RoleBody>('GET', `/roles/${name}`), 200)).toEqual({ ...created, members: 0 });

    const described = expectStatus(
      await call<RoleBody>('PATCH', `/roles/${name}`, { description: 'Edit things' }),
      200,
    );
    expect(described).toMatchObject({ name, description: 'Edit things' });
    expect(expectStatus(await call<RoleBody>('GET', `/roles/${name}`), 200).description).toBe('Edit things');
    expect(
      expectStatus(await call<RoleBody>('PATCH', `/roles/${name}`, { description: null }), 200).description,
    ).toBeNull();

    expectStatus(await call('DELETE', `/roles/${name}`), 204);
    expect((await call('GET', `/roles/${name}`)).status).toBe(404);
    expect((await listed()).map((r) => r.name)).not.toContain(name);
    expect((await call('DELETE', `/roles/${name}`)).status).toBe(404);
    expect((await call('PATCH', `/roles/${name}`, { description: 'x' })).status).toBe(404);
  });

  it('answers 409 naming name for a duplicate, and 400 for a bad name or input', async () => {
    const name = roleName('dup');
    expectStatus(await call('POST', '/roles', { name }), 201);
    expectFieldError(await call('POST', '/roles', { name }), 'name', 409);
    expectFieldError(await call('POST', '/roles', { name: 'has spaces' }), 'name');
    expectFieldError(await call('POST', '/roles', { name: '-leading-dash' }), 'name');
    expectFieldError(await call('POST', '/roles', { name: '' }), 'name');
    expectFieldError(await call('POST', '/roles', { name: 'x'.repeat(101) }), 'name');
    expectFieldError(
      await call('POST', '/roles', { name: roleName('ok'), description: 'x'.repeat(501) }),
      'description',
    );
    expectFieldError(await call('POST', '/roles', { name: roleName('ok'), members: [] }), 'members');
    expectFieldError(await call('PATCH', `/roles/${name}`, { name: 'renamed', description: 'x' }), 'name');
    expect((await listed()).filter((r) => r.name === name)).toHaveLength(1);
  });

  it('never deletes the admin role', async () => {
    expectFieldError(await call('DELETE', '/roles/admin'), 'name');
    expect((await listed()).map((r) => r.name)).toContain('admin');
  });

  it('assigns and unassigns roles, counts members, and the next ID token carries them', async () => {
    const [reader, writer] = [roleName('reader'), roleName('writer')];
    for (const name of [reader, writer]) expectStatus(await call('POST', '/roles', { name }), 201);
    const user = await server.buildUser();
    const client = await server.buildClient({ scope: 'openid profile email roles' });
    const rolesClaim = async () =>
      (await signIn(server, { user, client, params: { scope: 'openid roles' } })).tokens.claims()?.roles;
    expect(await rolesClaim()).toEqual([]);

    expect(expectStatus(await call('PUT', `/users/${user.id}/roles/${writer}`), 200)).toEqual({
      user_id: user.id,
      roles: [writer],
    });
    expect(expectStatus(await call('PUT', `/users/${user.id}/roles/${reader}`), 200)).toEqual({
      user_id: user.id,
      roles: [reader, writer].sort(),
    });
    // Idempotent: the same assignment again changes nothing.
    expect(expectStatus(await call('PUT', `/users/${user.id}/roles/${reader}`), 200)).toEqual({
      user_id: user.id,
      roles: [reader, writer].sort(),
    });
    expect(expectStatus(await call<RoleBody>('GET', `/roles/${reader}`), 200).members).toBe(1);
    expect(expectStatus(await call<{ roles: string[] }>('GET', `/users/${user.id}`), 200).roles).toEqual(
      [reader, writer].sort(),
    );
    expect(await rolesClaim()).toEqual([reader, writer].sort());

    expect(expectStatus(await call('DELETE', `/users/${user.id}/roles/${writer}`), 200)).toEqual({
      user_id: user.id,
      roles: [reader],
    });
    expect(await rolesClaim()).toEqual([reader]);
    expect((await call('DELETE', `/users/${user.id}/roles/${writer}`)).status).toBe(404);

    // Deleting a role takes it from everyone who held it.
    expectStatus(await call('DELETE', `/roles/${reader}`), 204);
    expect(expectStatus(await call<{ roles: string[] }>('GET', `/users/${user.id}`), 200).roles).toEqual([]);
    expect(await rolesClaim()).toEqual([]);
  });

  it("limits the roles claim to a client's visible_roles set through the API", async () => {
    const [shown, hidden] = [roleName('shown'), roleName('hidden')];
    for (const name of [shown, hidden]) expectStatus(await call('POST', '/roles', { name }), 201);
    const user = await server.buildUser();
    for (const name of [shown, hidden]) expectStatus(await call('PUT', `/users/${user.id}/roles/${name}`), 200);
    const created = expectStatus(
      await call<{ client_id: string; client_secret: string }>('POST', '/clients', {
        name: 'Sees some roles',
        redirect_uris: ['http://127.0.0.1:9999/callback'],
        first_party: true,
        scope: 'openid roles',
        visible_roles: [shown],
      }),
      201,
    );
    const client = testClientOf(created);
    expect((await signIn(server, { user, client, params: { scope: 'openid roles' } })).tokens.claims()?.roles).toEqual([
      shown,
    ]);
    expectStatus(await call('PATCH', `/clients/${created.client_id}`, { visible_roles: [] }), 200);
    expect((await signIn(server, { user, client, params: { scope: 'openid roles' } })).tokens.claims()?.roles).toEqual(
      [hidden, shown].sort(),
    );
  });

  it('answers 404 for an unknown user or role in an assignment', async () => {
    const name = roleName('lonely');
    expectStatus(await call('POST', '/roles', { name }), 201);
    const user = await server.buildUser();
    expect((await call('PUT', `/users/00000000-0000-4000-8000-000000000000/roles/${name}`)).status).toBe(404);
    expect((await call('PUT', `/users/not-a-uuid/roles/${name}`)).status).toBe(404);
    expect((await call('PUT', `/users/${user.id}/roles/no-such-role`)).status).toBe(404);
    expect((await call('DELETE', `/users/${user.id}/roles/no-such-role`)).status).toBe(404);
    expect(expectStatus(await call<RoleBody>('GET', `/roles/${name}`), 200).members).toBe(0);
  });
});
