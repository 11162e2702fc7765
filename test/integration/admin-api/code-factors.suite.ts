import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { expectFieldError, expectStatus, useAdminApi } from '../../helpers/admin-api.js';
import { cli, json } from '../../helpers/cli.js';

interface Factors {
  totp: boolean;
  passkeys: number;
  security_keys: number;
  recovery_codes: number;
  email_code: boolean;
  sms: boolean;
  phone_number: string | null;
}

/** Issue 18 in the admin API and the CLI: a user's code factors, and the per-client switches. */
describe.each(HTTP_BACKENDS)('admin API: email and SMS codes (%s)', (backend) => {
  const { server, call } = useAdminApi(backend);

  async function userWithCodes() {
    const user = await server.buildUser();
    const { phones } = server.gatehouse.storage.storage;
    await phones.set(user.id, '+4915112345678', true);
    await phones.enableFactor(user.id, 'sms');
    await phones.enableFactor(user.id, 'email');
    return user;
  }
  const factorsOf = async (id: string) =>
    expectStatus(await call<{ second_factors: Factors }>('GET', `/users/${id}`), 200).second_factors;

  it('shows every factor of a user, the number masked, and removes the email and SMS factors', async () => {
    const user = await userWithCodes();
    expect(await factorsOf(user.id)).toEqual({
      totp: false,
      webauthn: 0,
      passkeys: 0,
      security_keys: 0,
      recovery_codes: 0,
      email_code: true,
      sms: true,
      phone_number: '+49*********78',
    });
    const afterEmail = expectStatus(
      await call<{ second_factors: Factors }>('DELETE', `/users/${user.id}/second-factors/email`),
      200,
    );
    expect(afterEmail.second_factors).toMatchObject({ email_code: false, sms: true });
    expectStatus(await call('DELETE', `/users/${user.id}/second-factors/sms`), 200);
    expect(await factorsOf(user.id)).toMatchObject({ email_code: false, sms: false, phone_number: null });
    expect(await server.gatehouse.storage.storage.phones.find(user.id)).toBeUndefined();
    const [event] = await server.gatehouse.storage.storage.audit.query({ action: 'mfa.sms.removed', limit: 1 });
    expect(event).toMatchObject({ subjectId: user.id });
    expect(event?.clientId).not.toBeNull();
  });

  it('refuses an unknown factor and an unknown user', async () => {
    const user = await userWithCodes();
    expect((await call('DELETE', `/users/${user.id}/second-factors/pigeon`)).status).toBe(400);
    expect((await call('DELETE', '/users/00000000-0000-4000-8000-000000000000/second-factors/sms')).status).toBe(404);
    expect(await factorsOf(user.id)).toMatchObject({ email_code: true, sms: true });
  });

  it('resets the email and SMS factors with the others', async () => {
    const user = await userWithCodes();
    const reset = expectStatus(await call<{ removed: number }>('POST', `/users/${user.id}/second-factors/reset`), 200);
    expect(reset.removed).toBe(2);
    expect(await factorsOf(user.id)).toMatchObject({ email_code: false, sms: false, phone_number: null });
  });

  it('takes the per-client switches, stores them as metadata the sign-in reads, and refuses other values', async () => {
    const created = expectStatus(
      await call<{ client_id: string; sms: boolean; email_sign_in: boolean }>('POST', '/clients', {
        name: 'No SMS',
        redirect_uris: ['https://rp.example/cb'],
        sms: false,
        email_sign_in: false,
      }),
      201,
    );
    expect(created).toMatchObject({ sms: false, email_sign_in: false });
    const row = await server.gatehouse.storage.storage.clients.find(created.client_id);
    expect(row?.metadata).toMatchObject({ gatehouse_sms: false, gatehouse_email_sign_in: false });
    const on = expectStatus(
      await call<{ sms: boolean; email_sign_in: boolean }>('PATCH', `/clients/${created.client_id}`, { sms: true }),
      200,
    );
    expect(on).toMatchObject({ sms: true, email_sign_in: false });
    expect((await server.gatehouse.storage.storage.clients.find(created.client_id))?.metadata).not.toHaveProperty(
      'gatehouse_sms',
    );
    expectFieldError(await call('PATCH', `/clients/${created.client_id}`, { sms: 'no' }), 'sms');
    expectFieldError(
      await call('POST', '/clients', { name: 'Bad', redirect_uris: ['https://rp.example/cb'], email_sign_in: 1 }),
      'email_sign_in',
    );
    // A default client follows the deployment.
    const plain = expectStatus(
      await call<{ sms: boolean; email_sign_in: boolean }>('POST', '/clients', {
        name: 'Plain',
        redirect_uris: ['https://rp.example/cb'],
      }),
      201,
    );
    expect(plain).toMatchObject({ sms: true, email_sign_in: true });
  });

  it('sets the switches from the CLI, and refuses a value other than on or off', async () => {
    const created = json<{ client_id: string; gatehouse_sms?: boolean }>(
      await cli(
        server,
        'clients',
        'create',
        '--name',
        'Cli No SMS',
        '--redirect-uri',
        'https://rp.example/cb',
        '--sms',
        'off',
        '--json',
      ),
    );
    expect(created.gatehouse_sms).toBe(false);
    const updated = await cli(server, 'clients', 'update', created.client_id, '--email-sign-in', 'off', '--sms', 'on');
    expect(updated.code).toBe(0);
    const row = await server.gatehouse.storage.storage.clients.find(created.client_id);
    expect(row?.metadata).toMatchObject({ gatehouse_email_sign_in: false });
    expect(row?.metadata).not.toHaveProperty('gatehouse_sms');
    const bad = await cli(
      server,
      'clients',
      'create',
      '--name',
      'X',
      '--redirect-uri',
      'https://rp.example/cb',
      '--sms',
      'maybe',
    );
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(/--sms must be on or off/);
  });
});
