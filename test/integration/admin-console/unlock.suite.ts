import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { buildRp, openAuthorization, signIn, submitLogin } from '../../helpers/sessions.js';
import { UserAgent } from '../../helpers/user-agent.js';
import { postForm, useSignedInConsole } from './support.js';

describe.each(HTTP_BACKENDS)('admin console: sign-in lockout (%s)', (backend) => {
  const signedIn = useSignedInConsole(backend);
  const server = () => signedIn.server;

  it("shows a user's failed sign-ins and unlocks them with the button", async () => {
    const { ua, page } = signedIn;
    const user = await server().buildUser();
    const rp = await buildRp(server());
    const browser = new UserAgent(server().issuer);
    const login = (await openAuthorization(browser, rp, server().issuer)).page;
    const { freeFailures } = server().gatehouse.config.lockout;
    for (let n = 0; n < freeFailures; n++)
      expect((await submitLogin(browser, login, user.email, 'wrong password')).status).toBe(401);
    expect((await submitLogin(browser, login, user.email, user.password)).status).toBe(429);

    const before = await ua.get(`/admin/users/${user.id}`);
    expect(before.html).toContain(`Password failures remembered: ${freeFailures}`);
    expect(before.html).toContain('data-unlock-form');

    const unlocked = await postForm(ua, page, `/admin/users/${user.id}/unlock`);
    expect(unlocked.status).toBe(303);
    const after = await ua.get(unlocked.location ?? '');
    expect(after.html).toContain('Sign-in was unlocked');
    expect(after.html).toContain('Password failures remembered: 0');
    expect(after.html).toContain('No account-wide wait is running.');
    expect((await signIn(new UserAgent(server().issuer), rp, user)).tokens.claims()?.sub).toBe(user.id);
    const events = await server().gatehouse.admin.audit.query({
      action: 'lockout.cleared',
      subjectId: user.id,
      limit: 5,
    });
    expect(events.map((e) => e.actorId)).toEqual([signedIn.admin.id]);
  });

  it('refuses an unlock without the form token, and of a user that does not exist', async () => {
    const { ua, page } = signedIn;
    const user = await server().buildUser();
    expect((await ua.post(`/admin/users/${user.id}/unlock`, {})).status).toBe(403);
    expect((await postForm(ua, page, '/admin/users/00000000-0000-4000-8000-000000000000/unlock')).status).toBe(404);
  });
});
