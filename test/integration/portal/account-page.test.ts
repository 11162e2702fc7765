import { generate } from 'otplib';
import { BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { UserAgent, csrfToken, formAction, runAuthorization, type Page } from '../../helpers/user-agent.js';
import { accountCsrf, openAccountPage } from '../../helpers/portal.js';
import { buildAuthRequest, discoverRp, redeemCode } from '../../helpers/rp.js';

const secretOf = (html: string) => /data-totp-secret>([A-Z2-7]+)</.exec(html)?.[1] ?? '';
/** Follows redirects from `page` until a page answers. */
async function settle(ua: UserAgent, page: Page): Promise<Page> {
  let current = page;
  for (let hop = 0; current.location && hop < 10; hop++) current = await ua.get(current.location);
  return current;
}
const linkHref = (html: string, text: string) => new RegExp(`<a[^>]*href="([^"]+)"[^>]*>${text}</a>`).exec(html)?.[1]?.replaceAll('&amp;', '&');

const codesOf = (html: string) => [...html.matchAll(/data-recovery-code>([A-Z0-9-]+)</g)].map((m) => m[1] ?? '');

describe.each(BACKENDS)('account security page (%s)', (backend) => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer(backend); }, 120_000);
  afterAll(async () => { await server?.close(); });

  it('signs the user in through Gatehouse itself and shows their account', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    expect(page.html).toContain(user.email);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.html).toContain('data-totp-status>Off.');
    // the sign-in that opened the page is listed, in words
    expect(page.html).toMatch(/data-event="signin\.password\.succeeded"><td>[^<]+<\/td><td>Signed in with password</);
    const cookies = page.headers.getSetCookie();
    expect(cookies.every((c) => /httponly/i.test(c))).toBe(true);
  });

  it('sends a visitor without a session to sign in, and refuses a forged callback', async () => {
    const ua = new UserAgent(server.issuer);
    const first = await ua.get('/account');
    expect(first.status).toBe(302);
    expect(first.location).toContain('/account/login');
    const forged = await ua.get('/account/callback?code=abc&state=xyz');
    expect(forged.status).toBe(400);
    expect(forged.html).not.toContain('    at ');
  });

  it.each(['/account', '/admin'])('lands a cancelled sign-in to %s on a page with a way to sign in again', async (area) => {
    const ua = new UserAgent(server.issuer);
    const login = await settle(ua, await ua.get(area));
    const abort = formAction(login.html, '/abort');
    expect(abort).toBeDefined();
    const cancelled = await settle(ua, await ua.post(abort ?? '', { csrf: csrfToken(login.html) }));
    expect(new URL(cancelled.url).pathname).toBe(`${area}/callback`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.html).toContain('<h1 id="page-title">Sign-in cancelled</h1>');
    const again = linkHref(cancelled.html, 'Sign in again');
    expect(again).toBe(`${area}/login?return=${encodeURIComponent(area)}`);
    // The link starts a fresh sign-in: the login page again.
    const fresh = await settle(ua, await ua.get(again ?? ''));
    expect(formAction(fresh.html, '/login')).toMatch(/^\/interaction\//);
  });

  it('still refuses a callback with another error, with the error page', async () => {
    const ua = new UserAgent(server.issuer);
    const refused = await ua.get('/account/callback?error=server_error&state=x');
    expect(refused.status).toBe(400);
    expect(refused.html).not.toContain('Sign-in cancelled');
  });

  it('signs out of /account with one click and lands on a signed-out page with a way back in', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    expect(await server.gatehouse.storage.storage.oidc.listSessions(user.id)).toHaveLength(1);

    const out = await ua.post('/account/logout', { csrf: accountCsrf(page) });
    expect(out.status).toBe(303);
    const landed = await settle(ua, out);
    expect(new URL(landed.url).pathname).toBe('/account/signed-out');
    expect(landed.status).toBe(200);
    expect(landed.html).toContain('<h1 id="page-title">You are signed out</h1>');
    expect(landed.html).not.toContain('close this window');
    expect(linkHref(landed.html, 'Sign in again')).toBe('/account/login');

    // Signed out of Gatehouse, not only of the account pages: no provider session is left.
    expect(await server.gatehouse.storage.storage.oidc.listSessions(user.id)).toEqual([]);
    const after = await settle(ua, await ua.get('/account'));
    expect(formAction(after.html, '/login')).toMatch(/^\/interaction\//);
    const events = await server.gatehouse.storage.storage.audit.forSubject(user.id, 5);
    expect(events.find((e) => e.action === 'session.ended')?.details).toMatchObject({ reason: 'logout' });
  });

  it('refuses a sign-out without the CSRF token, and the session stays', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    await openAccountPage(ua, user.email, user.password);
    expect((await ua.post('/account/logout', { csrf: 'forged' })).status).toBe(403);
    expect(await server.gatehouse.storage.storage.oidc.listSessions(user.id)).toHaveLength(1);
    expect((await ua.get('/account')).status).toBe(200);
  });

  it('enrols an authenticator app after a code from it, shows recovery codes once, and then asks for a code at sign-in', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    let page = await openAccountPage(ua, user.email, user.password);
    page = await ua.post('/account/totp/start', { csrf: accountCsrf(page) });
    expect(page.status).toBe(200);
    expect(page.html).toContain('<svg');
    const secret = secretOf(page.html);
    expect(secret.length).toBeGreaterThanOrEqual(32);

    const wrong = await ua.post('/account/totp/confirm', { csrf: accountCsrf(page), code: '000000' === await generate({ secret }) ? '111111' : '000000' });
    expect(wrong.status).toBe(400);
    expect(await server.gatehouse.storage.storage.credentials.findTotp(user.id)).toBeNull();

    const done = await ua.post('/account/totp/confirm', { csrf: accountCsrf(wrong), code: await generate({ secret }) });
    expect(done.status).toBe(200);
    const codes = codesOf(done.html);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const events = await server.gatehouse.storage.storage.audit.forSubject(user.id);
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['mfa.totp.enrolled', 'mfa.recovery_codes.generated']));

    // a new browser now needs the second step; a recovery code works once
    const client = await server.buildClient();
    const rp = await discoverRp(server.issuer, client);
    const request = await buildAuthRequest(rp, client.redirectUri);
    const other = new UserAgent(server.issuer);
    await expect(runAuthorization(other, request.url, client.redirectUri, { email: user.email, password: user.password }))
      .rejects.toThrow(/Confirm it is you/);
  });

  it('changes the password only with the current one, and refuses a short new one', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    const wrong = await ua.post('/account/password', { csrf: accountCsrf(page), current_password: 'not it at all', new_password: 'a fresh long password' });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('current password is not correct');
    const short = await ua.post('/account/password', { csrf: accountCsrf(page), current_password: user.password, new_password: 'short' });
    expect(short.status).toBe(400);
    // Each error is shown inside the password form, first thing, and the field it is about points at it.
    for (const [answer, field] of [[wrong, 'current-password'], [short, 'new-password']] as const) {
      const form = /<form method="post" action="\/account\/password"[^>]*>([\s\S]*?)<\/form>/.exec(answer.html)?.[1] ?? '';
      expect(form).toMatch(/^\s*<input type="hidden" name="csrf"[^>]*>\s*<input type="text" name="username"[^>]*>\s*<p class="error" role="alert" id="password-error">/);
      expect(form).toMatch(new RegExp(`<input id="${field}"[^>]*aria-invalid="true" aria-describedby="password-error"`));
      // Not also (or only) at the top of the page, far above the form.
      expect(answer.html).not.toContain('<p class="error" role="alert">');
    }
    expect(short.html).toMatch(/id="password-error">[^<]*12 characters/);
    const ok = await ua.post('/account/password', { csrf: accountCsrf(page), current_password: user.password, new_password: 'a fresh long password' });
    expect(ok.status).toBe(303);
    const signIn = await server.gatehouse.storage.storage.users.passwordHash(user.id);
    const { createPasswordHasher } = await import('../../../src/accounts/passwords.js');
    expect(await createPasswordHasher(server.gatehouse.config.passwords.argon2).verify(signIn, 'a fresh long password')).toBe(true);
  });

  it('refuses changes without the CSRF token or from another origin', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    expect((await ua.post('/account/totp/start', { csrf: 'forged' })).status).toBe(403);
    expect((await ua.post('/account/totp/start', { csrf: accountCsrf(page) }, { origin: 'https://evil.example' })).status).toBe(403);
  });

  it('asks for a fresh sign-in before a sensitive change when the sign-in is old', async () => {
    const old = await startTestServer(backend, { mfa: { policy: 'optional', reauthenticationSeconds: 1, totpIssuer: 'Gatehouse' } });
    try {
      const user = await old.buildUser();
      const ua = new UserAgent(old.issuer);
      const page = await openAccountPage(ua, user.email, user.password);
      await new Promise((r) => setTimeout(r, 2100));
      const refused = await ua.post('/account/recovery-codes', { csrf: accountCsrf(page) });
      expect(refused.status).toBe(303);
      expect(refused.location).toContain('/account/login?reauth=1');
      expect(await old.gatehouse.storage.storage.credentials.countRecoveryCodes(user.id)).toBe(0);
    } finally {
      await old.close();
    }
  }, 120_000);
});
