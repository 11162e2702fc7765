import { randomBytes } from 'node:crypto';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { actionOf, buildRp, signIn, textOf } from '../../helpers/sessions.js';
import { UserAgent, csrfToken, formAction } from '../../helpers/user-agent.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { postForm, useSignedInConsole } from './support.js';

describe.each(HTTP_BACKENDS)('admin console: users (%s)', (backend) => {
  const signedIn = useSignedInConsole(backend);
  const server = () => signedIn.server;
  const storage = () => server().gatehouse.storage.storage;

  it('disabling a user ends their sessions and grants at once; enabling lets them sign in again', async () => {
    const { ua, page } = signedIn;
    const user = await server().buildUser();
    const rp = await buildRp(server());
    await signIn(new UserAgent(server().issuer), rp, user);
    const before = await ua.get(`/admin/users/${user.id}`);
    expect(before.html).toMatch(/data-session-id="/);
    expect(before.html).toMatch(/data-grant-id="/);

    const disabled = await postForm(ua, page, `/admin/users/${user.id}/disable`);
    expect(disabled.status).toBe(303);
    expect(await storage().sessions.listSessions(user.id)).toEqual([]);
    expect(await storage().sessions.listGrants(user.id)).toEqual([]);
    const after = await ua.get(disabled.location ?? '');
    expect(after.html).toMatch(/data-user-status>Disabled since/);
    expect(after.html).toContain('data-sessions-none');
    await expect(signIn(new UserAgent(server().issuer), rp, user)).rejects.toThrow();

    expect((await postForm(ua, page, `/admin/users/${user.id}/enable`)).status).toBe(303);
    await expect(signIn(new UserAgent(server().issuer), rp, user)).resolves.toBeDefined();
  });

  it('ends one session, signs a user out everywhere, and revokes a grant', async () => {
    const { ua, page } = signedIn;
    const user = await server().buildUser();
    const rp = await buildRp(server());
    await signIn(new UserAgent(server().issuer), rp, user);
    await signIn(new UserAgent(server().issuer), rp, user);
    const [first] = await storage().sessions.listSessions(user.id);
    expect(
      (await postForm(ua, page, `/admin/users/${user.id}/sessions/end`, { session: first?.uid ?? '' })).status,
    ).toBe(303);
    expect(await storage().sessions.listSessions(user.id)).toHaveLength(1);
    const [grant] = await storage().sessions.listGrants(user.id);
    expect((await postForm(ua, page, `/admin/users/${user.id}/grants/revoke`, { grant: grant?.id ?? '' })).status).toBe(
      303,
    );
    expect(await storage().sessions.listGrants(user.id)).toHaveLength(0);
    expect((await postForm(ua, page, `/admin/users/${user.id}/sessions/end-all`)).status).toBe(303);
    expect(await storage().sessions.listSessions(user.id)).toEqual([]);
    // A session that is not this user's is not found.
    expect((await postForm(ua, page, `/admin/users/${user.id}/sessions/end`, { session: 'nope' })).status).toBe(404);
  });

  it('creates a user, keeping the input and naming the field when refused', async () => {
    const { ua, page } = signedIn;
    const email = uniqueEmail('console');
    const short = await postForm(ua, page, '/admin/users', {
      email,
      name: 'New Person',
      password: 'short',
      email_verified: '1',
    });
    expect(short.status).toBe(400);
    expect(short.html).toMatch(/id="f-password-error">The password must be at least 12 characters long/);
    expect(short.html).toContain(`value="${email}"`);
    expect(short.html).not.toContain('value="short"');
    expect(await storage().users.findByEmail(email)).toBeNull();

    const created = await postForm(ua, page, '/admin/users', {
      email,
      name: 'New Person',
      password: 'a long enough password',
      email_verified: '1',
      roles: ['admin'],
    });
    expect(created.status).toBe(303);
    const user = await storage().users.findByEmail(email);
    expect(user?.emailVerified).toBe(true);
    expect(await storage().roles.rolesOf(user?.id ?? '')).toEqual(['admin']);

    const taken = await postForm(ua, page, '/admin/users', { email, password: '' });
    expect(taken.status).toBe(409);
    expect(taken.html).toMatch(/id="f-email-error">a user with this email exists/);
  });

  it('edits the profile, sets a password, assigns and removes roles, and deletes the user', async () => {
    const { ua, page } = signedIn;
    const user = await server().buildUser({ name: 'Old Name' });
    const bad = await postForm(ua, page, `/admin/users/${user.id}`, { name: 'New Name', email: 'not an email' });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/id="f-email-error">/);
    expect(bad.html).toContain('value="New Name"');

    expect(
      (
        await postForm(ua, page, `/admin/users/${user.id}`, {
          name: 'New Name',
          email: user.email,
          email_verified: '1',
        })
      ).status,
    ).toBe(303);
    const row = await storage().users.findById(user.id);
    expect(row).toMatchObject({ name: 'New Name', emailVerified: true });

    expect(
      (await postForm(ua, page, `/admin/users/${user.id}/password`, { password: 'another long password' })).status,
    ).toBe(303);
    const rp = await buildRp(server());
    await expect(
      signIn(new UserAgent(server().issuer), rp, { email: user.email, password: 'another long password' }),
    ).resolves.toBeDefined();

    await storage()
      .roles.create({ name: 'editor', description: null })
      .catch(() => undefined);
    expect((await postForm(ua, page, `/admin/users/${user.id}/roles`, { role: 'editor' })).status).toBe(303);
    expect(await storage().roles.rolesOf(user.id)).toEqual(['editor']);
    const shown = await ua.get(`/admin/users/${user.id}`);
    expect(shown.html).toContain('data-role="editor"');
    expect((await postForm(ua, page, `/admin/users/${user.id}/roles/remove`, { role: 'editor' })).status).toBe(303);
    expect(await storage().roles.rolesOf(user.id)).toEqual([]);

    expect((await postForm(ua, page, `/admin/users/${user.id}/reset-factors`)).status).toBe(303);
    expect((await postForm(ua, page, `/admin/users/${user.id}/delete`)).status).toBe(400);
    expect(await storage().users.findById(user.id)).not.toBeNull();
    expect((await postForm(ua, page, `/admin/users/${user.id}/delete`, { confirm: '1' })).status).toBe(303);
    expect(await storage().users.findById(user.id)).toBeNull();
    expect((await ua.get(`/admin/users/${user.id}`)).status).toBe(404);
    expect((await ua.get('/admin/users/not-a-uuid')).status).toBe(404);
  });

  it("shows a user's email and SMS factors and removes each with its button; a forged or unknown removal is refused", async () => {
    const { ua } = signedIn;
    const user = await server().buildUser();
    await storage().phones.set(user.id, '+491701234567', true);
    await storage().phones.enableFactor(user.id, 'sms');
    await storage().phones.enableFactor(user.id, 'email');
    const shown = await ua.get(`/admin/users/${user.id}`);
    expect(textOf(shown.html)).toMatch(/Codes by email: on\. Codes by SMS: on, to \+49\*+67\./);
    expect(shown.html).not.toContain('+491701234567');

    // A forged form and a factor that does not exist change nothing.
    const smsButton = actionOf(shown, '/code-factors/sms/remove');
    expect((await ua.post(smsButton, { csrf: 'forged' })).status).toBe(403);
    expect((await postForm(ua, shown, `/admin/users/${user.id}/code-factors/pigeon/remove`)).status).toBe(404);
    expect(await storage().phones.factors(user.id)).toEqual(expect.arrayContaining(['email', 'sms']));

    const removed = await ua.post(smsButton, { csrf: csrfToken(shown.html) });
    expect(removed.status).toBe(303);
    expect(await storage().phones.find(user.id)).toBeUndefined();
    const afterSms = await ua.get(removed.location ?? '');
    expect(textOf(afterSms.html)).toContain('Codes by email: on. Codes by SMS: off.');
    expect(formAction(afterSms.html, '/code-factors/sms/remove')).toBeUndefined();

    const emailOff = await ua.post(actionOf(afterSms, '/code-factors/email/remove'), {
      csrf: csrfToken(afterSms.html),
    });
    expect(emailOff.status).toBe(303);
    expect(await storage().phones.factors(user.id)).toEqual([]);
    expect(textOf((await ua.get(`/admin/users/${user.id}`)).html)).toContain('Codes by email: off. Codes by SMS: off.');
    // Recorded with the admin as actor.
    const events = await storage().audit.query({ subjectId: user.id, action: 'mfa.', limit: 10 });
    expect(events.map((e) => [e.action, e.actorId])).toEqual(
      expect.arrayContaining([
        ['mfa.sms.removed', signedIn.admin.id],
        ['mfa.email.removed', signedIn.admin.id],
      ]),
    );
  });

  it("edits a user's custom attributes, admin-only ones included, and refuses a value of the wrong type beside its field", async () => {
    const { ua, page, admin } = signedIn;
    const s = randomBytes(3).toString('hex');
    const [badge, joined] = [`badge_${s}`, `joined_${s}`];
    const actor = { userId: admin.id, clientId: null, origin: {} };
    await server().gatehouse.admin.attributes.define({ name: badge, label: 'Badge', type: 'boolean' }, actor);
    await server().gatehouse.admin.attributes.define(
      { name: joined, label: 'Joined', type: 'date', required: true, editableBy: 'user' },
      actor,
    );
    const user = await server().buildUser();
    const shown = await ua.get(`/admin/users/${user.id}`);
    expect(shown.html).toContain(`name="attributes[${badge}]"`);
    expect(shown.html).toContain(`name="attributes[${joined}]"`);

    const saved = await postForm(ua, page, `/admin/users/${user.id}/attributes`, {
      [`attributes[${badge}]`]: 'true',
      [`attributes[${joined}]`]: '2020-05-01',
    });
    expect(saved.status).toBe(303);
    expect(saved.location).toContain('done=attributes-saved');
    const values = () =>
      server()
        .gatehouse.admin.attributes.of(user.id)
        .then((r) => r.values);
    expect(await values()).toEqual({ [badge]: true, [joined]: '2020-05-01' });

    const refused = await postForm(ua, page, `/admin/users/${user.id}/attributes`, {
      [`attributes[${badge}]`]: 'false',
      [`attributes[${joined}]`]: '01/05/2020',
    });
    expect(refused.status).toBe(400);
    expect(refused.html).toContain(`id="f-attributes.${joined}-error">must be a date YYYY-MM-DD`);
    expect(refused.html).toContain('value="01/05/2020"');
    const cleared = await postForm(ua, page, `/admin/users/${user.id}/attributes`, { [`attributes[${joined}]`]: '' });
    expect(cleared.status).toBe(400);
    expect(cleared.html).toContain(`id="f-attributes.${joined}-error">is required`);
    expect(await values()).toEqual({ [badge]: true, [joined]: '2020-05-01' });
  });

  it('searches users and pages through them with a cursor', async () => {
    const { ua } = signedIn;
    const tag = `pager${Date.now()}`;
    for (let i = 0; i < 27; i++)
      await server().buildUser({ email: `${tag}-${String(i).padStart(2, '0')}@example.test` });
    const first = await ua.get(`/admin/users?q=${tag}`);
    const emailsOn = (html: string) =>
      [...html.matchAll(/<th scope="row"[^>]*><a href="\/admin\/users\/[^"]+">([^<]+)</g)].map((m) => m[1]);
    expect(emailsOn(first.html)).toHaveLength(25);
    const next = /href="([^"]+)" rel="next" data-next-page/.exec(first.html)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toBeDefined();
    const second = await ua.get(next ?? '');
    expect(emailsOn(second.html)).toHaveLength(2);
    expect(second.html).not.toContain('data-next-page');
    expect(new Set([...emailsOn(first.html), ...emailsOn(second.html)]).size).toBe(27);
    expect(textOf((await ua.get('/admin/users?q=nobody-has-this')).html)).toContain('No users match');
  });
});
