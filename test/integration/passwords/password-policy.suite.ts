import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { uniqueEmail, type TestClient } from '../../helpers/factories.js';
import { signIn } from '../../helpers/tokens.js';
import { expectStatus, useAdminApi, testUserOf } from '../../helpers/admin-api.js';
import { UserAgent } from '../../helpers/user-agent.js';
import { accountCsrf, openAccountPage } from '../../helpers/account-pages.js';
import { textOf } from '../../helpers/sessions.js';
import { cli } from '../../helpers/cli.js';

const PASSPHRASE = 'copper kettle drifting north';

interface FieldErrorBody {
  error: string;
  field?: string;
  error_description?: string;
}

/** One policy wherever a password is set: the admin API, the account page, the CLI. */
describe.each(HTTP_BACKENDS)('password policy (%s)', (backend) => {
  let client: TestClient;
  // The shipped breached-password list, not the tests' small one: this suite proves it is enforced.
  const { server, call } = useAdminApi(backend, {}, { breachedList: 'shipped' });
  beforeAll(async () => {
    client = await server.buildClient();
  });

  const refusal = async (method: string, path: string, body: Record<string, unknown>) => {
    const response = await call<FieldErrorBody>(method, path, body);
    expect(response.status).toBe(400);
    expect(response.body.field).toBe('password');
    return response.body.error_description ?? '';
  };

  it('refuses weak passwords through the admin API, naming the rule, and accepts a long passphrase', async () => {
    const email = uniqueEmail('harbourmaster');
    expect(await refusal('POST', '/users', { email, password: 'password1234' })).toMatch(
      /list of common or leaked passwords/,
    );
    expect(await refusal('POST', '/users', { email, password: 'qwertyuiopasdfgh' })).toMatch(
      /list of common or leaked passwords/,
    );
    expect(await refusal('POST', '/users', { email, password: 'eleven char' })).toBe(
      'password: The password must be at least 12 characters long.',
    );
    expect(await refusal('POST', '/users', { email, password: `${'x'.repeat(257)}` })).toBe(
      'password: The password must be at most 256 characters long.',
    );
    expect(await refusal('POST', '/users', { email, password: `I am ${email.split('@')[0]?.toUpperCase()}` })).toMatch(
      /must not contain your email address/,
    );

    const user = expectStatus(
      await call<{ id: string; email: string }>('POST', '/users', { email, password: PASSPHRASE }),
      201,
    );
    expect(await refusal('PUT', `/users/${user.id}/password`, { password: 'iloveyou1234' })).toMatch(
      /common or leaked/,
    );
    expect((await signIn(server, { user: testUserOf(user, PASSPHRASE), client })).tokens.claims()?.sub).toBe(user.id);
    expectStatus(await call('PUT', `/users/${user.id}/password`, { password: `${PASSPHRASE} again` }), 204);
    expect((await signIn(server, { user: testUserOf(user, `${PASSPHRASE} again`), client })).tokens.claims()?.sub).toBe(
      user.id,
    );
  });

  it('refuses a weak new password on /account, saying which rule, and takes a passphrase', async () => {
    const email = uniqueEmail('lighthouse');
    const user = await server.buildUser({ email });
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    const change = (next: string) =>
      ua.post('/account/password', { csrf: accountCsrf(page), current_password: user.password, new_password: next });

    const common = await change('Password1234');
    expect(common.status).toBe(400);
    expect(textOf(common.html)).toContain('This password is on a list of common or leaked passwords');
    const mine = await change(`${email.split('@')[0]}-2024!`);
    expect(mine.status).toBe(400);
    expect(textOf(mine.html)).toContain('must not contain your email address');
    expect((await change(PASSPHRASE)).status).toBe(303);
    expect((await signIn(server, { user: { ...user, password: PASSPHRASE }, client })).tokens.claims()?.sub).toBe(
      user.id,
    );
  });

  it('says it in German on /account with Accept-Language: de', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    const refused = await ua.post(
      '/account/password',
      { csrf: accountCsrf(page), current_password: user.password, new_password: 'kurz' },
      { 'accept-language': 'de' },
    );
    expect(refused.status).toBe(400);
    expect(textOf(refused.html)).toContain('Das Passwort muss mindestens 12 Zeichen lang sein.');
  });

  it('refuses a breached password from the CLI and accepts a passphrase', async () => {
    const user = await server.buildUser();
    const refused = await cli(server, 'users', 'set-password', '--email', user.email, '--password', 'passwordpassword');
    expect(refused.code).toBe(2);
    expect(refused.err.join('\n')).toMatch(/common or leaked/);
    expect((await cli(server, 'users', 'set-password', '--email', user.email, '--password', PASSPHRASE)).code).toBe(0);
    expect((await signIn(server, { user: { ...user, password: PASSPHRASE }, client })).tokens.claims()?.sub).toBe(
      user.id,
    );
  });

  it('still signs in a user whose password hash predates NFKC normalisation', async () => {
    const user = await server.buildUser();
    // Decomposed "é" (e + U+0301): NFKC composes it. A hash of the typed form, as made before.
    const typed = 'cafe\u0301 au lait en terrasse';
    const argon2 = (await import('argon2')).default;
    await server.gatehouse.storage.storage.users.setPasswordHash(
      user.id,
      await argon2.hash(typed, { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 }),
    );
    expect((await signIn(server, { user: { ...user, password: typed }, client })).tokens.claims()?.sub).toBe(user.id);
    // New hashes are of the NFKC form: the composed spelling signs in too.
    expectStatus(await call('PUT', `/users/${user.id}/password`, { password: typed }), 204);
    expect(
      (await signIn(server, { user: { ...user, password: typed.normalize('NFKC') }, client })).tokens.claims()?.sub,
    ).toBe(user.id);
  });
});
