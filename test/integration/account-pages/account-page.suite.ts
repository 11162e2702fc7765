import { generate } from 'otplib';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, useSharedTestServer } from '../../helpers/server.js';
import { UserAgent, csrfToken, formAction, runAuthorization, type Page } from '../../helpers/user-agent.js';
import { accountCsrf, openAccountPage } from '../../helpers/account-pages.js';
import { buildAuthRequest, discoverRp, oidc } from '../../helpers/rp.js';
import { buildRp, logOutAtRp, signIn, textOf } from '../../helpers/sessions.js';
import { introspect, oauthFailure, refreshTokenOf } from '../../helpers/tokens.js';
import { loadCatalogue } from '../../../src/i18n/catalogue.js';
import { createTranslator } from '../../../src/i18n/translator.js';
import { testClock } from '../../helpers/clock.js';

const english = createTranslator(loadCatalogue(), 'en');

const secretOf = (html: string) => /data-totp-secret>([A-Z2-7]+)</.exec(html)?.[1] ?? '';
/** Follows redirects from `page` until a page answers. */
async function settle(ua: UserAgent, page: Page): Promise<Page> {
  let current = page;
  for (let hop = 0; current.location && hop < 10; hop++) current = await ua.get(current.location);
  return current;
}
const linkHref = (html: string, text: string) =>
  new RegExp(`<a[^>]*href="([^"]+)"[^>]*>${text}</a>`).exec(html)?.[1]?.replaceAll('&amp;', '&');

const codesOf = (html: string) => [...html.matchAll(/data-recovery-code>([A-Z0-9-]+)</g)].map((m) => m[1] ?? '');

describe.each(HTTP_BACKENDS)('account security page (%s)', (backend) => {
  const server = useSharedTestServer(backend);

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

  it('on an IP-address issuer, says why passkeys are unavailable instead of offering them, on /account and at sign-in (issue 15, item 11)', async () => {
    expect(new URL(server.issuer).hostname).toBe('127.0.0.1');
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    // The sign-in page on the way to /account offers no passkey sign-in that could only fail.
    let login = await ua.get('/account');
    while (login.location) login = await ua.get(login.location);
    expect(login.html).toContain('name="password"');
    expect(login.html).not.toContain('data-webauthn="passkey"');
    expect(login.html).not.toContain('Sign in with a passkey');
    const page = await openAccountPage(ua, user.email, user.password);
    expect(page.html).toContain(
      'data-passkeys-unavailable>Passkeys and security keys cannot be added here: this site is reached by an IP address',
    );
    expect(page.html).not.toContain('data-webauthn="register"');
    expect(page.html).not.toContain('data-webauthn-start');
    // German, from the catalogue, for a browser that asks for it.
    const german = await ua.request('/account', { headers: { 'accept-language': 'de' } });
    expect(german.html).toContain(
      'data-passkeys-unavailable>Passkeys und Sicherheitsschlüssel können hier nicht hinzugefügt werden',
    );
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

  it.each(['/account', '/admin'])(
    'lands a cancelled sign-in to %s on a page with a way to sign in again',
    async (area) => {
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
    },
  );

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
    expect(await server.gatehouse.storage.storage.sessions.listSessions(user.id)).toHaveLength(1);

    const out = await ua.post('/account/logout', { csrf: accountCsrf(page) });
    expect(out.status).toBe(303);
    const landed = await settle(ua, out);
    expect(new URL(landed.url).pathname).toBe('/account/signed-out');
    expect(landed.status).toBe(200);
    expect(landed.html).toContain('<h1 id="page-title">You are signed out</h1>');
    expect(landed.html).not.toContain('close this window');
    expect(linkHref(landed.html, 'Sign in again')).toBe('/account/login');

    // Signed out of Gatehouse, not only of the account pages: no provider session is left.
    expect(await server.gatehouse.storage.storage.sessions.listSessions(user.id)).toEqual([]);
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
    expect(await server.gatehouse.storage.storage.sessions.listSessions(user.id)).toHaveLength(1);
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

    const wrong = await ua.post('/account/totp/confirm', {
      csrf: accountCsrf(page),
      code: '000000' === (await generate({ secret })) ? '111111' : '000000',
    });
    expect(wrong.status).toBe(400);
    expect(await server.gatehouse.storage.storage.credentials.findTotp(user.id)).toBeNull();

    const done = await ua.post('/account/totp/confirm', { csrf: accountCsrf(wrong), code: await generate({ secret }) });
    expect(done.status).toBe(200);
    const codes = codesOf(done.html);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const events = await server.gatehouse.storage.storage.audit.forSubject(user.id);
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining(['mfa.totp.enrolled', 'mfa.recovery_codes.generated']),
    );

    // a new browser now needs the second step; a recovery code works once
    const client = await server.buildClient();
    const rp = await discoverRp(server.issuer, client);
    const request = await buildAuthRequest(rp, client.redirectUri);
    const other = new UserAgent(server.issuer);
    await expect(
      runAuthorization(other, request.url, client.redirectUri, { email: user.email, password: user.password }),
    ).rejects.toThrow(/Confirm it is you/);
  });

  it('changes the password only with the current one, and refuses a short new one', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    const wrong = await ua.post('/account/password', {
      csrf: accountCsrf(page),
      current_password: 'not it at all',
      new_password: 'a fresh long password',
    });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('current password is not correct');
    const short = await ua.post('/account/password', {
      csrf: accountCsrf(page),
      current_password: user.password,
      new_password: 'short',
    });
    expect(short.status).toBe(400);
    // Each error is shown inside the password form, first thing, and the field it is about points at it.
    for (const [answer, field] of [
      [wrong, 'current-password'],
      [short, 'new-password'],
    ] as const) {
      const form =
        /<form method="post" action="\/account\/password"[^>]*>([\s\S]*?)<\/form>/.exec(answer.html)?.[1] ?? '';
      expect(form).toMatch(
        /^\s*<input type="hidden" name="csrf"[^>]*>\s*<input type="text" name="username"[^>]*>\s*<p class="error" role="alert" id="password-error">/,
      );
      expect(form).toMatch(
        new RegExp(`<input id="${field}"[^>]*aria-invalid="true" aria-describedby="password-error"`),
      );
      // Not also (or only) at the top of the page, far above the form.
      expect(answer.html).not.toContain('<p class="error" role="alert">');
    }
    expect(short.html).toMatch(/id="password-error">[^<]*12 characters/);
    const ok = await ua.post('/account/password', {
      csrf: accountCsrf(page),
      current_password: user.password,
      new_password: 'a fresh long password',
    });
    expect(ok.status).toBe(303);
    const signIn = await server.gatehouse.storage.storage.users.passwordHash(user.id);
    const { createPasswordHasher } = await import('../../../src/accounts/passwords.js');
    expect(
      await createPasswordHasher(server.gatehouse.config.passwords.argon2).verify(signIn, 'a fresh long password'),
    ).toBe(true);
  });

  it('refuses changes without the CSRF token or from another origin', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    expect((await ua.post('/account/totp/start', { csrf: 'forged' })).status).toBe(403);
    expect(
      (await ua.post('/account/totp/start', { csrf: accountCsrf(page) }, { origin: 'https://evil.example' })).status,
    ).toBe(403);
  });

  it('asks for a fresh sign-in before a sensitive change when the sign-in is old', async () => {
    const clock = testClock();
    const old = await startTestServer(
      backend,
      { mfa: { policy: 'optional', reauthenticationSeconds: 1, totpIssuer: 'Gatehouse' } },
      { clock: clock.now },
    );
    try {
      const user = await old.buildUser();
      const ua = new UserAgent(old.issuer);
      const page = await openAccountPage(ua, user.email, user.password);
      clock.advance(2100);
      const refused = await ua.post('/account/recovery-codes', { csrf: accountCsrf(page) });
      expect(refused.status).toBe(303);
      expect(refused.location).toContain('/account/login?reauth=1');
      expect(await old.gatehouse.storage.storage.credentials.countRecoveryCodes(user.id)).toBe(0);
    } finally {
      await old.close();
    }
  }, 120_000);

  describe('applications the user has allowed', () => {
    const listed = (html: string) => [...html.matchAll(/data-application="([^"]+)"/g)].map((m) => m[1]);
    const consentOf = (userId: string, clientId: string) =>
      server.gatehouse.storage.storage.consents.find(userId, clientId);

    it('lists a third-party application with what it may access, across sign-outs, and revoking ends its tokens and asks for consent again', async () => {
      const user = await server.buildUser();
      const rp = await buildRp(server, { name: 'Photo Printer', firstParty: false });
      const ua = new UserAgent(server.issuer);
      const first = await signIn(ua, rp, user, { scope: 'openid profile email' }, { consent: 'allow' });
      expect(first.trace.pages).toEqual(['login', 'consent']);
      await logOutAtRp(ua, rp.config, first.tokens.id_token);
      const again = await signIn(ua, rp, user, { scope: 'openid profile email' });
      expect(again.trace.pages).toEqual(['login']);
      const refreshToken = refreshTokenOf(again.tokens);

      const page = await openAccountPage(ua, user.email, user.password);
      // Gatehouse's own account pages are first party: never listed.
      expect(listed(page.html)).toEqual([rp.client.clientId]);
      const text = textOf(page.html);
      expect(text).toContain('Photo Printer');
      for (const scope of ['openid', 'profile', 'email']) expect(text).toContain(english.t(`scopes.${scope}`));
      expect(page.html).toMatch(/data-application-since>[^<]+</);

      const action = `/account/applications/${encodeURIComponent(rp.client.clientId)}/revoke`;
      expect((await ua.post(action, {})).status).toBe(403);
      expect((await ua.post(action, { csrf: 'forged' })).status).toBe(403);
      expect(await introspect(rp.config, refreshToken)).toMatchObject({ active: true });

      const done = await ua.post(action, { csrf: accountCsrf(page) });
      expect(done.status).toBe(303);
      expect(done.location).toContain('/account?done=application-revoked');
      const after = await ua.get(done.location ?? '');
      expect(listed(after.html)).toEqual([]);
      expect(textOf(after.html)).toContain(english.t('applications.notices.revoked'));
      expect(await oauthFailure(oidc.refreshTokenGrant(rp.config, refreshToken))).toEqual({
        status: 400,
        error: 'invalid_grant',
      });
      expect(await consentOf(user.id, rp.client.clientId)).toBeUndefined();
      const events = await server.gatehouse.storage.storage.audit.forSubject(user.id);
      expect(events.find((e) => e.action === 'consent.revoked')).toMatchObject({
        actorId: user.id,
        clientId: rp.client.clientId,
      });

      // This browser's session is still signed in; the application must ask again.
      const next = await signIn(ua, rp, user, { scope: 'openid profile email' }, { consent: 'allow' });
      expect(next.trace.pages).toEqual(['consent']);
    });

    it("refuses to revoke another user's, a first-party or an unknown application, and changes nothing", async () => {
      const owner = await server.buildUser();
      const rp = await buildRp(server, { name: "Someone Else's App", firstParty: false });
      const owned = await signIn(new UserAgent(server.issuer), rp, owner, {}, { consent: 'allow' });
      const firstParty = await buildRp(server, { name: 'Own App', firstParty: true });

      const user = await server.buildUser();
      const ua = new UserAgent(server.issuer);
      const mine = await signIn(ua, firstParty, user);
      const page = await openAccountPage(ua, user.email, user.password);
      expect(listed(page.html)).toEqual([]);
      const revoke = (clientId: string) =>
        ua.post(`/account/applications/${encodeURIComponent(clientId)}/revoke`, { csrf: accountCsrf(page) });

      expect((await revoke(rp.client.clientId)).status).toBe(404);
      expect((await revoke(firstParty.client.clientId)).status).toBe(404);
      expect((await revoke('no-such-client')).status).toBe(404);
      const malformed = await revoke('a b');
      expect(malformed.status).toBe(400);
      expect(malformed.html).not.toContain('    at ');

      expect(await consentOf(owner.id, rp.client.clientId)).toBeDefined();
      expect(await introspect(rp.config, refreshTokenOf(owned.tokens))).toMatchObject({ active: true, sub: owner.id });
      expect(await introspect(firstParty.config, refreshTokenOf(mine.tokens))).toMatchObject({
        active: true,
        sub: user.id,
      });
      const events = await server.gatehouse.storage.storage.audit.forSubject(user.id);
      expect(events.filter((e) => e.action === 'consent.revoked')).toEqual([]);
    });
  });
});
