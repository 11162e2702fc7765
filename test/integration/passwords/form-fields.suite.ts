import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { UserAgent, csrfToken } from '../../helpers/user-agent.js';
import { alertText, errorCode } from '../../helpers/sessions.js';

/**
 * The public forms (/password, /email: the cookie-bound CSRF token) through the form kit
 * (src/web/kit/form.ts): a malformed field is a 400 page naming it, after the token was checked.
 */
describe.each(HTTP_BACKENDS)('public form fields (%s)', (backend) => {
  const server = useTestServer(backend);

  it('refuses /password/forgot and /password/reset with a field sent twice, naming it', async () => {
    const ua = new UserAgent(server.issuer);
    const csrf = csrfToken((await ua.get('/password/forgot')).html);

    const forgot = await ua.post('/password/forgot', { csrf, email: ['a@example.test', 'b@example.test'] });
    expect(forgot.status).toBe(400);
    expect(errorCode(forgot.html)).toBe('invalid_request');
    expect(alertText(forgot.html)).toBe('email: must be sent once, as text');

    const reset = await ua.post('/password/reset', { csrf, token: 'x', password: 'p', 'password_confirm[a]': 'p' });
    expect(reset.status).toBe(400);
    expect(alertText(reset.html)).toBe('password_confirm: must be sent once, as text');

    // The token is checked before any field: a forged form is a 403 whatever it holds.
    expect((await ua.post('/password/forgot', { csrf: 'forged', email: ['a', 'b'] })).status).toBe(403);
  });

  it("refuses a mailed link's confirmation (/email/verify, /email/change) whose token is sent twice, naming it", async () => {
    const ua = new UserAgent(server.issuer);
    // The public-form cookie and its token are the same for every public page of this browser.
    const csrf = csrfToken((await ua.get('/password/forgot')).html);
    for (const path of ['/email/verify', '/email/change']) {
      const refused = await ua.post(path, { csrf, token: ['a', 'b'] });
      expect(refused.status).toBe(400);
      expect(alertText(refused.html)).toBe('token: must be sent once, as text');
    }
    // Well formed but not a real link: the invalid-link page, as before.
    const invalid = await ua.post('/email/verify', { csrf, token: 'BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB' });
    expect(invalid.status).toBe(400);
    expect(invalid.html).toContain('data-link-invalid');
  });
});
