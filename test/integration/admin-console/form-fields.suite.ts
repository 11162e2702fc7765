import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { alertText, errorCode } from '../../helpers/sessions.js';
import { postForm, useSignedInConsole } from './support.js';

/** The console forms through the form kit (src/web/kit/form.ts): a malformed field is a 400 page naming it, and nothing is made. */
describe.each(HTTP_BACKENDS)('admin console form fields (%s)', (backend) => {
  const fixture = useSignedInConsole(backend);

  it('refuses a new user whose roles are an object or whose email is sent twice, naming the field', async () => {
    const email = uniqueEmail('form-kit');
    const roles = await postForm(fixture.ua, fixture.page, '/admin/users', { email, name: 'Kit', 'roles[x]': 'admin' });
    expect(roles.status).toBe(400);
    expect(errorCode(roles.html)).toBe('invalid_request');
    expect(alertText(roles.html)).toBe('roles: must be text values');

    const twice = await postForm(fixture.ua, fixture.page, '/admin/users', { email: [email, email], name: 'Kit' });
    expect(twice.status).toBe(400);
    expect(alertText(twice.html)).toBe('email: must be sent once, as text');
    expect(await fixture.server.gatehouse.storage.storage.users.findByEmail(email)).toBeNull();

    // The same form, well formed, creates the user (303 to their page).
    const created = await postForm(fixture.ua, fixture.page, '/admin/users', { email, name: 'Kit', roles: 'admin' });
    expect(created.status).toBe(303);
  });

  it('refuses a client whose redirect URIs are sent twice, naming the field', async () => {
    const refused = await postForm(fixture.ua, fixture.page, '/admin/clients', {
      name: 'Kit app',
      client_type: 'confidential',
      redirect_uris: ['https://a.example/cb', 'https://b.example/cb'],
      grant_types: 'authorization_code',
      scope: 'openid',
    });
    expect(refused.status).toBe(400);
    expect(alertText(refused.html)).toBe('redirect_uris: must be sent once, as text');
  });
});
