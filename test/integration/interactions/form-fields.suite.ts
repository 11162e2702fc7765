import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { csrfToken } from '../../helpers/user-agent.js';
import {
  UserAgent,
  actionOf,
  alertText,
  buildRp,
  errorCode,
  openAuthorization,
  pageKind,
  submitLogin,
  type TestRp,
} from '../../helpers/sessions.js';

/** The sign-in forms through the form kit (src/web/kit/form.ts): a malformed field is a 400 page naming it. */
describe.each(HTTP_BACKENDS)('sign-in form fields (%s)', (backend) => {
  let rp: TestRp;
  const server = useSharedTestServer(backend);
  beforeAll(async () => {
    rp = await buildRp(server);
  });

  it('refuses a login whose email is sent twice or whose box is an object, naming the field, and signs in with the same form when it is well formed', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    const login = actionOf(page, '/login');
    const csrf = csrfToken(page.html);

    const twice = await ua.post(login, { csrf, email: [user.email, 'other@example.test'], password: user.password });
    expect(twice.status).toBe(400);
    expect(twice.headers.get('content-type')).toMatch(/^text\/html/);
    expect(errorCode(twice.html)).toBe('invalid_request');
    expect(alertText(twice.html)).toBe('email: must be sent once, as text');

    const box = await ua.post(login, { csrf, email: user.email, password: user.password, 'remember[on]': '1' });
    expect(box.status).toBe(400);
    expect(alertText(box.html)).toBe('remember: must be sent once, as text');

    // A forged form is still refused for its token first, whatever its fields.
    expect((await ua.post(login, { csrf: 'forged', email: ['a', 'b'] })).status).toBe(403);

    // Nothing was used up: the sign-in goes on with a well-formed post.
    const again = await ua.get(page.url);
    expect(pageKind(again)).toBe('login');
    expect((await submitLogin(ua, again, user.email, user.password)).status).toBe(303);
  });
});
