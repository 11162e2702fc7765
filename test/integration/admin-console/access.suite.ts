import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { textOf } from '../../helpers/sessions.js';
import { UserAgent } from '../../helpers/user-agent.js';
import { ADMIN_ROLE } from '../../../src/roles/roles.service.js';
import { buildConsoleUser, openConsole, postForm } from './support.js';

describe.each(HTTP_BACKENDS)('admin console: who gets in (%s)', (backend) => {
  const server = useTestServer(backend);

  it('sends a visitor without a session to sign in, back to the page asked for, and refuses their posts', async () => {
    const ua = new UserAgent(server.issuer);
    const page = await ua.get('/admin/users?q=x');
    expect(page.status).toBe(302);
    expect(page.location).toBe(`${server.issuer}/admin/login?return=%2Fadmin%2Fusers`);
    const login = await ua.get(page.location ?? '');
    expect(login.location).toMatch(new RegExp(`^${server.issuer}/auth\\?client_id=gatehouse-admin&`));
    const post = await ua.post('/admin/clients', { name: 'x' });
    expect(post.status).toBe(401);
    expect(post.headers.get('cache-control')).toBe('no-store');
  });

  it('asks an admin for a second factor, enrolling one at the first sign-in, and shows the dashboard', async () => {
    const admin = await buildConsoleUser(server, { admin: true });
    const ua = new UserAgent(server.issuer);
    const page = await openConsole(ua, admin);
    expect(admin.totpSecret).not.toBeNull();
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.html).toContain(admin.email);
    expect(page.headers.getSetCookie().every((c) => /httponly/i.test(c))).toBe(true);
  });

  it('signs an admin out with one click: no second question, no provider session left, a page with a way back in', async () => {
    const admin = await buildConsoleUser(server, { admin: true });
    const ua = new UserAgent(server.issuer);
    const page = await openConsole(ua, admin);
    expect(await server.gatehouse.storage.storage.sessions.listSessions(admin.id)).toHaveLength(1);
    const out = await postForm(ua, page, '/admin/logout');
    expect(out.status).toBe(303);
    expect(out.location).toBe(`${server.issuer}/admin/signed-out`);
    const landed = await ua.get(out.location ?? '');
    expect(landed.status).toBe(200);
    expect(textOf(landed.html)).toContain('You are signed out');
    expect(landed.html).toContain('href="/admin/login"');
    expect(await server.gatehouse.storage.storage.sessions.listSessions(admin.id)).toEqual([]);
    const events = await server.gatehouse.storage.storage.audit.forSubject(admin.id, 5);
    expect(events.find((e) => e.action === 'session.ended')?.details).toMatchObject({ reason: 'logout' });
    // Signed out of the console too: the next page asks to sign in.
    expect((await ua.get('/admin')).status).toBe(302);
  });

  it('refuses a console sign-out without the CSRF token, and the session stays', async () => {
    const admin = await buildConsoleUser(server, { admin: true });
    const ua = new UserAgent(server.issuer);
    await openConsole(ua, admin);
    expect((await ua.post('/admin/logout', { csrf: 'forged' })).status).toBe(403);
    expect(await server.gatehouse.storage.storage.sessions.listSessions(admin.id)).toHaveLength(1);
  });

  it('shows a readable 403 to a signed-in user without the admin role, and follows role changes at once', async () => {
    const user = await buildConsoleUser(server, { admin: false });
    const ua = new UserAgent(server.issuer);
    const refused = await openConsole(ua, user);
    expect(refused.status).toBe(403);
    expect(textOf(refused.html)).toContain(`signed in as ${user.email}, which is not an administrator`);

    const { roles } = server.gatehouse.storage.storage;
    await roles.assign(user.id, ADMIN_ROLE);
    expect((await ua.get('/admin')).status).toBe(200);
    await roles.unassign(user.id, ADMIN_ROLE);
    expect((await ua.get('/admin/users')).status).toBe(403);
  });

  it('refuses a form without the CSRF token, or from another origin, and changes nothing', async () => {
    const admin = await buildConsoleUser(server, { admin: true });
    const ua = new UserAgent(server.issuer);
    const page = await openConsole(ua, admin, '/admin/roles');
    const noToken = await ua.post('/admin/roles', { name: 'no-token-role' });
    expect(noToken.status).toBe(403);
    expect(textOf(noToken.html)).toContain('The form expired or was not sent by this site');
    const wrongToken = await ua.post('/admin/roles', { name: 'no-token-role', csrf: 'forged' });
    expect(wrongToken.status).toBe(403);
    const otherSite = await ua.post(
      '/admin/roles',
      { name: 'no-token-role', csrf: '' },
      { origin: 'https://evil.example' },
    );
    expect(otherSite.status).toBe(403);
    expect((await server.gatehouse.storage.storage.roles.list()).map((r) => r.name)).not.toContain('no-token-role');
    // The same form with its token works.
    const ok = await postForm(ua, page, '/admin/roles', { name: 'with-token-role' });
    expect(ok.status).toBe(303);
  });

  it('ends the console session when the provider session ends', async () => {
    const admin = await buildConsoleUser(server, { admin: true });
    const ua = new UserAgent(server.issuer);
    await openConsole(ua, admin);
    await server.gatehouse.storage.storage.sessions.revokeAccount(admin.id);
    const page = await ua.get('/admin');
    expect(page.status).toBe(302);
    expect(page.location).toContain('/admin/login');
  });
});
