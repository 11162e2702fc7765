import { HTTP_BACKENDS } from '../../helpers/backends.js';
import type { TestServer } from '../../helpers/server.js';
import { expectFieldError, expectStatus, type ApiCall, startAdminApi } from '../../helpers/admin-api.js';
import { register, webClient } from '../registration/support.js';

interface TokenBody {
  id: string;
  token: string;
  expires_at: string;
}

/** Initial access tokens for dynamic registration, issued and revoked through the admin API. */
describe.each(HTTP_BACKENDS)('admin API initial access tokens (%s)', (backend) => {
  let server: TestServer;
  let call: ApiCall;
  let clientId: string;
  beforeAll(async () => {
    ({ server, call, clientId } = await startAdminApi(backend, {
      registration: { enabled: true, requireApproval: false },
    }));
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  it('issues a token that registers a client, lists it by reference only, and revokes it', async () => {
    const created = expectStatus(
      await call<TokenBody>('POST', '/initial-access-tokens', { note: 'partner onboarding', ttl_seconds: 3600 }),
      201,
    );
    expect(created.id).toMatch(/^[0-9a-f]{16}$/);
    const listed = expectStatus(
      await call<{ items: Array<Record<string, unknown>> }>('GET', '/initial-access-tokens'),
      200,
    );
    expect(listed.items).toContainEqual(expect.objectContaining({ id: created.id, note: 'partner onboarding' }));
    expect(JSON.stringify(listed)).not.toContain(created.token);

    expect((await register(server, webClient(), created.token)).status).toBe(201);
    expect((await call('DELETE', `/initial-access-tokens/${created.id}`)).status).toBe(204);
    expect((await register(server, webClient(), created.token)).status).toBe(401);
    expect((await call('DELETE', `/initial-access-tokens/${created.id}`)).status).toBe(404);

    const events = await server.gatehouse.storage.storage.audit.query({
      action: 'initial_access_token.',
      clientId,
      limit: 10,
    });
    expect(events.map((e) => e.action).sort()).toEqual([
      'initial_access_token.created',
      'initial_access_token.revoked',
    ]);
  });

  it('refuses a bad lifetime, an unknown field and a malformed reference', async () => {
    expectFieldError(await call('POST', '/initial-access-tokens', { ttl_seconds: 0 }), 'ttl_seconds');
    expectFieldError(await call('POST', '/initial-access-tokens', { policies: ['open'] }), 'policies');
    expectFieldError(await call('DELETE', '/initial-access-tokens/not-a-reference'), 'id');
  });
});
