import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { UserAgent } from '../../helpers/user-agent.js';
import { accountCsrf, openAccountPage } from '../../helpers/account-pages.js';
import { alertText, errorCode } from '../../helpers/sessions.js';

/** The account forms through the form kit (src/web/kit/form.ts): a malformed field is a 400 page naming it, and changes nothing. */
describe.each(HTTP_BACKENDS)('account form fields (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  it('refuses a password change whose new password is sent twice, naming the field, and keeps the password', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    const fresh = 'a new and long enough passphrase 42';

    const refused = await ua.post('/account/password', {
      csrf: accountCsrf(page),
      current_password: user.password,
      new_password: [fresh, fresh],
    });
    expect(refused.status).toBe(400);
    expect(errorCode(refused.html)).toBe('invalid_request');
    expect(alertText(refused.html)).toBe('new_password: must be sent once, as text');

    const address = await ua.post('/account/email', { csrf: accountCsrf(page), 'new_email[0]': 'a@example.test' });
    expect(address.status).toBe(400);
    expect(alertText(address.html)).toBe('new_email: must be sent once, as text');

    // The old password still signs in; the new one was never set.
    const later = await openAccountPage(new UserAgent(server.issuer), user.email, user.password);
    expect(later.html).toContain(user.email);
  });
});
