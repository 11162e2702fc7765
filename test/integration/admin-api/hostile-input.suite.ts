import { HTTP_BACKENDS } from '../../helpers/backends.js';
import type { TestServer } from '../../helpers/server.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { expectFieldError, type ApiCall, startAdminApi } from '../../helpers/admin-api.js';

/** Input PostgreSQL cannot store, and fields a route does not take: 400 naming the field, nothing written. */
describe.each(HTTP_BACKENDS)('admin API hostile input (%s)', (backend) => {
  let server: TestServer;
  let call: ApiCall;
  beforeAll(async () => {
    ({ server, call } = await startAdminApi(backend));
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  it('refuses U+0000 anywhere in a JSON body, naming the path', async () => {
    const email = uniqueEmail('nul');
    expectFieldError(await call('POST', '/users', { email, name: 'Ada\u0000Lovelace' }), 'name');
    expect(await server.gatehouse.storage.storage.users.findByEmail(email)).toBeNull();
    expectFieldError(await call('POST', '/roles', { name: 'nul-role', description: 'x\u0000y' }), 'description');
    expectFieldError(
      await call('POST', '/clients', {
        name: 'Nul',
        grant_types: ['client_credentials'],
        scope: 'openid',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ kty: 'EC\u0000' }] },
      }),
      'jwks.keys.0.kty',
    );
    expect((await server.gatehouse.storage.storage.roles.list()).map((r) => r.name)).not.toContain('nul-role');
  });

  it('refuses U+0000 in an import file by line, importing nothing', async () => {
    const good = uniqueEmail('nul-import');
    const response = await call(
      'POST',
      '/users/import',
      [
        JSON.stringify({ email: good }),
        JSON.stringify({ email: uniqueEmail('nul-import'), name: 'bad\u0000name' }),
      ].join('\n'),
      { 'content-type': 'application/x-ndjson' },
    );
    expect(response.status).toBe(400);
    expect(response.body.problems).toEqual([{ line: 2, field: 'name', message: 'must not contain U+0000' }]);
    expect(await server.gatehouse.storage.storage.users.findByEmail(good)).toBeNull();
  });

  it('refuses fields on an operation that takes no body', async () => {
    const before = (await server.gatehouse.storage.storage.signingKeys.listAll()).length;
    const response = await call('POST', '/keys/rotate', { please: true });
    expectFieldError(response, 'please');
    expect((await server.gatehouse.storage.storage.signingKeys.listAll()).length).toBe(before);
  });
});
