import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { DEVICE_CODE_GRANT } from '../../../src/clients/client-flows.js';
import { postForm, useSignedInConsole } from './support.js';

/** A TV app from the console: the device code grant, no redirect URIs, DPoP required. */
const DEVICE_CLIENT = {
  name: 'Console TV',
  redirect_uris: '',
  post_logout_redirect_uris: '',
  client_type: 'public',
  grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
  scope: ['openid', 'offline_access'],
  id_token_signed_response_alg: 'ES256',
  mfa: 'optional',
  dpop_bound_access_tokens: '1',
};

/** Issue 19 in the console: the device code grant among the grant types, the DPoP, PAR and FAPI switches. */
describe.each(HTTP_BACKENDS)('admin console: client flows (%s)', (backend) => {
  const signedIn = useSignedInConsole(backend);
  const clients = () => signedIn.server.gatehouse.storage.storage.clients;

  it('offers the device code grant and the switches, and registers a device client with DPoP required', async () => {
    const { ua, page } = signedIn;
    const form = await ua.get('/admin/clients/new/custom');
    expect(form.html).toContain(`value="${DEVICE_CODE_GRANT}"`);
    expect(form.html).toContain('name="dpop_bound_access_tokens"');
    expect(form.html).toContain('name="fapi"');
    const created = await postForm(ua, page, '/admin/clients', DEVICE_CLIENT);
    expect(created.status).toBe(303);
    const row = (await clients().list()).find((c) => c.name === 'Console TV');
    expect(row?.metadata).toMatchObject({
      grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
      dpop_bound_access_tokens: true,
    });
  });

  it('refuses the FAPI switch for a client with a client secret, naming the field', async () => {
    const { ua, page } = signedIn;
    const refused = await postForm(ua, page, '/admin/clients', {
      ...DEVICE_CLIENT,
      name: 'Console bank',
      client_type: 'confidential',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: 'https://bank.example/callback',
      grant_types: ['authorization_code'],
      fapi: '1',
    });
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('a FAPI 2.0 client authenticates with private_key_jwt');
  });
});
