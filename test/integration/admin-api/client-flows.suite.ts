import { exportJWK, generateKeyPair } from 'jose';
import { DEVICE_CODE_GRANT } from '../../../src/clients/client-flows.js';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { cli, json } from '../../helpers/cli.js';
import { expectFieldError, expectStatus, useAdminApi } from '../../helpers/admin-api.js';

const CALLBACK = 'http://127.0.0.1:9999/callback';

interface ClientBody {
  client_id: string;
  grant_types: string[];
  [field: string]: unknown;
}

async function publicJwks() {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] };
}

/** Issue 19: the device code grant and the per-client DPoP, PAR and FAPI 2.0 switches, by API and CLI. */
describe.each(HTTP_BACKENDS)('client flows in the admin API and CLI (%s)', (backend) => {
  const { server, call } = useAdminApi(backend);

  it('registers a device client (no redirect URIs) that may refresh', async () => {
    const created = expectStatus(
      await call<ClientBody>('POST', '/clients', {
        name: 'TV app',
        public: true,
        grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
        scope: 'openid offline_access',
      }),
      201,
    );
    expect(created).toMatchObject({ grant_types: [DEVICE_CODE_GRANT, 'refresh_token'], redirect_uris: [] });
  });

  it('stores and shows the DPoP, PAR and FAPI switches, and a FAPI client sets what the profile requires', async () => {
    const bound = expectStatus(
      await call<ClientBody>('POST', '/clients', {
        name: 'SPA',
        public: true,
        redirect_uris: [CALLBACK],
        dpop_bound_access_tokens: true,
      }),
      201,
    );
    expect(bound).toMatchObject({ dpop_bound_access_tokens: true, require_pushed_authorization_requests: false });
    const fapi = expectStatus(
      await call<ClientBody>('POST', '/clients', {
        name: 'Bank',
        redirect_uris: [CALLBACK],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: await publicJwks(),
        fapi: true,
      }),
      201,
    );
    expect(fapi).toMatchObject({
      fapi: true,
      dpop_bound_access_tokens: true,
      require_pushed_authorization_requests: true,
    });
    const off = expectStatus(await call<ClientBody>('PATCH', `/clients/${fapi.client_id}`, { fapi: false }), 200);
    expect(off).toMatchObject({ fapi: false });
  });

  it('refuses a FAPI client without private_key_jwt, PAR without the code grant, and an unknown grant', async () => {
    expectFieldError(await call('POST', '/clients', { name: 'Bank', redirect_uris: [CALLBACK], fapi: true }), 'fapi');
    expectFieldError(
      await call('POST', '/clients', {
        name: 'Machine',
        grant_types: ['client_credentials'],
        require_pushed_authorization_requests: true,
      }),
      'require_pushed_authorization_requests',
    );
    expect(
      (await call('POST', '/clients', { name: 'Old', redirect_uris: [CALLBACK], grant_types: ['password'] })).status,
    ).toBe(400);
  });

  it('takes the device code grant and the switches on the command line', async () => {
    const created = json<Record<string, unknown>>(
      await cli(
        server,
        'clients',
        'create',
        '--name',
        'CLI tool',
        '--public',
        '--grant-types',
        `${DEVICE_CODE_GRANT},refresh_token`,
        '--scope',
        'openid offline_access',
        '--dpop-bound',
        '--json',
      ),
    );
    expect(created).toMatchObject({
      grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
      dpop_bound_access_tokens: true,
    });
    const refused = await cli(server, 'clients', 'create', '--name', 'Web', '--redirect-uri', CALLBACK, '--fapi');
    expect(refused.code).toBe(2);
    expect(refused.err.join('\n')).toContain('--fapi');
  });
});
