import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startMailCatcher, type MailCatcher } from '../../helpers/mail-catcher.js';
import { uniqueEmail, type TestClient, type TestUser } from '../../helpers/factories.js';
import { buildAuthRequest, discoverRp, oidc } from '../../helpers/rp.js';
import { OFFLINE, oauthFailure, refreshTokenOf, signIn } from '../../helpers/tokens.js';
import { BOOT_TIMEOUT, textOf, userAdminFor } from '../../helpers/sessions.js';
import { UserAgent, csrfToken, runAuthorization } from '../../helpers/user-agent.js';
import { requestReset, resetLinkFor, submitNewPassword } from '../../helpers/password-reset.js';

const NEW_PASSWORD = 'lantern orchard velvet ninety';

/** /password/forgot → mail → /password/reset, through a real SMTP server and a real RP. */
describe.each(HTTP_BACKENDS)('password reset (%s)', (backend) => {
  let server: TestServer;
  let mail: MailCatcher;
  let client: TestClient;
  let rp: oidc.Configuration;
  beforeAll(async () => {
    mail = await startMailCatcher();
    server = await startTestServer(backend, { mail: { smtpUrl: mail.url, from: 'Gatehouse <no-reply@example.test>' } });
    client = await server.buildClient();
    rp = await discoverRp(server.issuer, client);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
    await mail?.close();
  });

  const browser = () => new UserAgent(server.issuer);
  /** The pages an authorization shows in `ua`: [] when its session still signs the user in. */
  const pagesInBrowser = async (ua: UserAgent, user: Pick<TestUser, 'email' | 'password'>) => {
    const request = await buildAuthRequest(rp, client.redirectUri);
    return (await runAuthorization(ua, request.url, client.redirectUri, { email: user.email, password: user.password }))
      .pages;
  };
  const linksOf = (userId: string) =>
    server.gatehouse.storage.storage.dataSource.query<Array<{ consumed_at: Date | null }>>(
      "SELECT consumed_at FROM account_links WHERE user_id = $1 AND purpose = 'reset-password'",
      [userId],
    );

  it('mails a link that sets a new password; the old password, refresh token and browser session stop working', async () => {
    const user = await server.buildUser();
    const before = await signIn(server, { user, client, rp, params: OFFLINE });
    const refreshToken = refreshTokenOf(before.tokens);
    expect(await pagesInBrowser(before.ua, user)).toEqual([]);

    const asked = await requestReset(browser(), user.email);
    expect(asked.status).toBe(200);
    const message = await mail.next(user.email);
    expect(message.subject).toBe('Reset your password');
    expect(message.html).toContain('/password/reset?token=');
    const link = message.links.find((l) => l.includes('/password/reset?token='));
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/password\/reset\?token=[\w-]{43}&ui_locales=en$/);

    const done = await submitNewPassword(browser(), link ?? '', NEW_PASSWORD);
    expect(done.status).toBe(200);
    expect(textOf(done.html)).toContain('Your password was changed');
    expect((await mail.next(user.email)).subject).toBe('Your password was changed');

    expect(await oauthFailure(oidc.refreshTokenGrant(rp, refreshToken))).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
    expect(await pagesInBrowser(before.ua, { email: user.email, password: NEW_PASSWORD })).toEqual(['login']);
    await expect(signIn(server, { user, client, rp })).rejects.toThrow(/sign-in refused/);
    const after = await signIn(server, { user: { ...user, password: NEW_PASSWORD }, client, rp });
    expect(after.tokens.claims()?.sub).toBe(user.id);
    // Using the link proved control of the mailbox.
    expect(await oidc.fetchUserInfo(rp, after.tokens.access_token, user.id)).toMatchObject({
      sub: user.id,
      email_verified: true,
    });

    const events = await server.gatehouse.storage.storage.audit.forSubject(user.id, 20);
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['password.reset_requested', 'password.reset']));
  });

  it('uses a link once, and a newer link voids the older one', async () => {
    const user = await server.buildUser();
    await requestReset(browser(), user.email);
    const older = await resetLinkFor(mail, user.email);
    await requestReset(browser(), user.email);
    const newer = await resetLinkFor(mail, user.email);

    const stale = await browser().get(older);
    expect(stale.status).toBe(400);
    expect(textOf(stale.html)).toContain('This link does not work');
    expect((await submitNewPassword(browser(), newer, NEW_PASSWORD)).status).toBe(200);
    await mail.next(user.email);
    const reused = await submitNewPassword(browser(), newer, 'another fresh passphrase here');
    expect(reused.status).toBe(400);
    expect(textOf(reused.html)).toContain('This link does not work');
    expect((await signIn(server, { user: { ...user, password: NEW_PASSWORD }, client, rp })).tokens.claims()?.sub).toBe(
      user.id,
    );
  });

  it('refuses a second submission of a form whose link was used meanwhile', async () => {
    const user = await server.buildUser();
    await requestReset(browser(), user.email);
    const link = await resetLinkFor(mail, user.email);
    const ua = browser();
    const form = await ua.get(link);
    const fields = {
      csrf: csrfToken(form.html),
      token: new URL(link).searchParams.get('token') ?? '',
      password: NEW_PASSWORD,
      password_confirm: NEW_PASSWORD,
    };
    expect((await ua.post('/password/reset', fields)).status).toBe(200);
    await mail.next(user.email);
    expect(
      (
        await ua.post('/password/reset', {
          ...fields,
          password: 'second try passphrase',
          password_confirm: 'second try passphrase',
        })
      ).status,
    ).toBe(400);
  });

  it('refuses an expired link', async () => {
    const user = await server.buildUser();
    await requestReset(browser(), user.email);
    const link = await resetLinkFor(mail, user.email);
    await server.gatehouse.storage.storage.dataSource.query(
      "UPDATE account_links SET expires_at = now() - interval '1 second' WHERE user_id = $1",
      [user.id],
    );
    expect((await browser().get(link)).status).toBe(400);
    const refused = await submitNewPassword(browser(), link, NEW_PASSWORD);
    expect(refused.status).toBe(400);
    expect(textOf(refused.html)).toContain('has expired');
    await expect(signIn(server, { user: { ...user, password: NEW_PASSWORD }, client, rp })).rejects.toThrow(
      /sign-in refused/,
    );
  });

  it('refuses forged, malformed and missing tokens with a readable page', async () => {
    const ua = browser();
    for (const query of ['?token=' + 'A'.repeat(43), '?token=short', '?token=%00', '', '?token=a&token=b']) {
      const page = await ua.get(`/password/reset${query}`);
      expect([query, page.status]).toEqual([query, 400]);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      // U+0000 is refused before any route, by the one check of every query (src/http/storable-input.ts).
      expect(textOf(page.html)).toContain(
        query === '?token=%00' ? 'token: contains characters this service cannot accept' : 'Ask for a new one',
      );
    }
    const form = await ua.get('/password/forgot');
    const forged = await ua.post('/password/reset', {
      csrf: csrfToken(form.html),
      token: 'B'.repeat(43),
      password: NEW_PASSWORD,
      password_confirm: NEW_PASSWORD,
    });
    expect(forged.status).toBe(400);
  });

  it('answers unknown and known addresses with the same status and text, and mails a link only to the active account (a disabled one gets a notice without one)', async () => {
    const known = await server.buildUser();
    const disabled = await server.buildUser();
    await userAdminFor(server).setDisabled(disabled.email, true);
    const unknown = uniqueEmail('nobody');
    const pages = [
      await requestReset(browser(), known.email),
      await requestReset(browser(), unknown),
      await requestReset(browser(), disabled.email),
    ];
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200]);
    const texts = pages.map((p) => textOf(p.html));
    expect(texts[1]).toBe(texts[0]);
    expect(texts[2]).toBe(texts[0]);
    expect(texts[0]).not.toContain(known.email);
    expect(texts[0]).toContain('If an account uses that address');

    await resetLinkFor(mail, known.email);
    // A disabled account gets no link: its mailbox hears why, and whom to ask (docs/account-lifecycle.md).
    expect(await linksOf(disabled.id)).toEqual([]);
    const events = await server.gatehouse.storage.storage.audit.forSubject(disabled.id, 5);
    expect(events.find((e) => e.action === 'password.reset_requested')?.details).toEqual({ outcome: 'disabled' });
    const notice = await mail.next(disabled.email);
    expect(notice.subject).toBe('Your account is disabled');
    expect(notice.text).toContain('contact your administrator');
    expect(notice.links.filter((l) => l.includes('/password/reset'))).toEqual([]);
    expect(notice.html).not.toContain('/password/reset');
    expect(mail.messages.filter((m) => m.to.includes(unknown))).toEqual([]);
  });

  it('refuses a weak new password on the reset page, says which rule, and keeps the link usable', async () => {
    const email = uniqueEmail('maplestone');
    const user = await server.buildUser({ email });
    await requestReset(browser(), email);
    const link = await resetLinkFor(mail, email);
    const ua = browser();
    const refusals: Array<[string, string]> = [
      ['password1234', 'list of common or leaked passwords'],
      ['too short', 'at least 12 characters'],
      [`${email.split('@')[0]} is mine`, 'must not contain your email address'],
    ];
    for (const [password, message] of refusals) {
      const page = await submitNewPassword(ua, link, password);
      expect([password, page.status]).toEqual([password, 400]);
      expect(textOf(page.html)).toContain(message);
    }
    const mismatch = await submitNewPassword(ua, link, NEW_PASSWORD, `${NEW_PASSWORD}!`);
    expect(mismatch.status).toBe(400);
    expect(textOf(mismatch.html)).toContain('not the same');
    expect((await submitNewPassword(ua, link, NEW_PASSWORD)).status).toBe(200);
    expect((await signIn(server, { user: { ...user, password: NEW_PASSWORD }, client, rp })).tokens.claims()?.sub).toBe(
      user.id,
    );
  });

  it('refuses a form without its CSRF token, from another site, or with no valid address', async () => {
    const ua = browser();
    const form = await ua.get('/password/forgot');
    // A plain-http issuer: no __Host- prefix, which browsers refuse without Secure (csrf.ts).
    expect([...ua.cookies.keys()]).toContain('gatehouse.form');
    const user = await server.buildUser();
    expect((await ua.post('/password/forgot', { csrf: 'forged', email: user.email })).status).toBe(403);
    expect((await browser().post('/password/forgot', { csrf: csrfToken(form.html), email: user.email })).status).toBe(
      403,
    );
    expect(
      (
        await ua.post(
          '/password/forgot',
          { csrf: csrfToken(form.html), email: user.email },
          { origin: 'https://evil.example' },
        )
      ).status,
    ).toBe(403);
    for (const email of ['', 'not an address', `${'x'.repeat(400)}@example.test`]) {
      const page = await ua.post('/password/forgot', { csrf: csrfToken(form.html), email });
      expect([email.slice(0, 20), page.status]).toEqual([email.slice(0, 20), 400]);
      expect(textOf(page.html)).toContain('Enter a valid email address');
    }
    expect(await linksOf(user.id)).toEqual([]);
  });

  it('links the sign-in page to the reset, and the reset back to the sign-in it came from', async () => {
    const ua = browser();
    const request = await buildAuthRequest(rp, client.redirectUri);
    let page = await ua.get(request.url);
    while (page.location) page = await ua.get(page.location);
    const forgot = /href="(\/password\/forgot\?interaction=([\w-]+)[^"]*)"/.exec(page.html);
    expect(forgot).not.toBeNull();
    const uid = forgot?.[2] ?? '';

    const user = await server.buildUser();
    const sent = await requestReset(
      ua,
      user.email,
      forgot?.[1]?.replace(/&amp;/g, '&').replace('/password/forgot', '') ?? '',
    );
    expect(sent.html).toContain(`href="/interaction/${uid}"`);
    const done = await submitNewPassword(ua, await resetLinkFor(mail, user.email), NEW_PASSWORD);
    expect(done.html).toContain(`href="/interaction/${uid}"`);
    await mail.next(user.email);
    const resumed = await ua.get(`/interaction/${uid}`);
    expect(resumed.status).toBe(200);
    expect(resumed.html).toContain(`/interaction/${uid}/login`);
  });

  it('speaks German with ui_locales=de: the pages and the mail', async () => {
    const user = await server.buildUser();
    const ua = browser();
    const sent = await requestReset(ua, user.email, '?ui_locales=de');
    expect(textOf(sent.html)).toContain('Sehen Sie in Ihr Postfach');
    const message = await mail.next(user.email);
    expect(message.subject).toBe('Passwort zurücksetzen');
    expect(message.text).toContain('Der Link funktioniert einmal');
    const link = message.links.find((l) => l.includes('/password/reset?token=')) ?? '';
    expect(new URL(link).searchParams.get('ui_locales')).toBe('de');
    const form = await ua.get(link);
    expect(textOf(form.html)).toContain('Neues Passwort festlegen');
    const weak = await submitNewPassword(ua, link, 'password1234');
    expect(textOf(weak.html)).toContain('Liste häufig verwendeter oder geleakter Passwörter');
  });
});
