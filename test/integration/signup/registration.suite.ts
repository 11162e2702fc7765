import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, useTestServer, type TestServer } from '../../helpers/server.js';
import { startMailCatcher, type MailCatcher } from '../../helpers/mail-catcher.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { oidc, redeemCode } from '../../helpers/rp.js';
import {
  BOOT_TIMEOUT,
  buildRp,
  follow,
  openAuthorization,
  signIn,
  textOf,
  type TestRp,
} from '../../helpers/sessions.js';
import { UserAgent, csrfToken } from '../../helpers/user-agent.js';
import { SIGN_UP, linkIn, loginAndFollow, openSignUp, submitSignUp, useMailedLink } from './support.js';

const PASSWORD = 'a long enough passphrase';

describe.each(HTTP_BACKENDS)('self-registration (%s)', (backend) => {
  let server: TestServer;
  let mail: MailCatcher;
  let rp: TestRp;
  beforeAll(async () => {
    mail = await startMailCatcher();
    server = await startTestServer(backend, {
      signUp: SIGN_UP,
      mail: { smtpUrl: mail.url, from: 'Gatehouse <no-reply@example.test>' },
    });
    rp = await buildRp(server);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
    await mail?.close();
  });

  it('registers, refuses sign-in until the mailed link is used, then signs in through the RP with email_verified true', async () => {
    const email = uniqueEmail('new');
    const ua = new UserAgent(server.issuer);
    const { request, form } = await openSignUp(ua, rp, server.issuer);
    expect(form.status).toBe(200);
    const sent = await submitSignUp(ua, form, { email, password: PASSWORD, name: 'Ada Lovelace' });
    expect(sent.status).toBe(200);
    expect(sent.html).toContain('data-signup-sent');
    const first = await mail.next(email);
    expect(first.subject).toBe('Confirm your email address for Gatehouse');
    expect(first.html).toContain('/email/verify?token=');

    // The right password is not enough yet: a page that offers a new link instead.
    const continueHref = /<a class="button" href="([^"]+)"/.exec(sent.html)?.[1] ?? '';
    const login = await ua.get(continueHref);
    const refused = await loginAndFollow(ua, login, email, PASSWORD, server.issuer);
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('data-email-unverified');
    const resent = await ua.post(`${continueHref}/signup/resend`, { csrf: csrfToken(refused.html) });
    expect(resent.status).toBe(200);
    const second = await mail.next(email);
    // The new link retired the first one.
    const stale = await new UserAgent(server.issuer).get(linkIn(first, '/email/verify'));
    expect(stale.status).toBe(400);

    const { confirm, done } = await useMailedLink(ua, linkIn(second, '/email/verify'));
    expect(confirm.status).toBe(200);
    expect(done.status).toBe(200);
    expect(done.html).toContain('data-email-verified');
    const user = await server.gatehouse.storage.storage.users.findByEmail(email);
    expect(user?.emailVerified).toBe(true);
    const events = await server.gatehouse.storage.storage.audit.forSubject(user?.id ?? '');
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining([
        'signup.registered',
        'signin.email_unverified',
        'email.verification_sent',
        'email.verified',
      ]),
    );

    // "Continue signing in" returns to the same sign-in, which now reaches the RP.
    const continueUrl = /href="([^"]+)" data-continue/.exec(done.html)?.[1] ?? '';
    const again = await follow(ua, new URL(continueUrl, server.issuer).toString(), server.issuer);
    const callback = await loginAndFollow(ua, again, email, PASSWORD, server.issuer);
    expect(callback.location?.startsWith(rp.client.redirectUri)).toBe(true);
    const tokens = await redeemCode(rp.config, callback.location ?? '', request);
    const sub = tokens.claims()?.sub ?? '';
    expect(sub).toBe(user?.id);
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, sub);
    expect(info.email).toBe(email);
    expect(info.email_verified).toBe(true);
    expect(info.name).toBe('Ada Lovelace');
  });

  it('answers a registration for a taken address exactly like a new one, and mails its owner instead', async () => {
    const owner = await server.buildUser();
    const fresh = uniqueEmail('fresh');
    const pages = [];
    for (const email of [fresh, owner.email]) {
      const ua = new UserAgent(server.issuer);
      const { form } = await openSignUp(ua, rp, server.issuer);
      const page = await submitSignUp(ua, form, { email, password: PASSWORD });
      pages.push({ status: page.status, text: textOf(page.html).replace(email, '<email>') });
    }
    expect(pages[1]).toEqual(pages[0]);
    const notice = await mail.next(owner.email);
    expect(notice.subject).toBe('Someone tried to register with your address at Gatehouse');
    expect(notice.text).not.toContain('/email/verify');
    // The owner's account is untouched: their password still signs in.
    const signedIn = await signIn(new UserAgent(server.issuer), rp, owner);
    expect(signedIn.tokens.claims()?.sub).toBe(owner.id);
    const ownerRow = await server.gatehouse.storage.storage.users.findByEmail(owner.email);
    const events = await server.gatehouse.storage.storage.audit.forSubject(ownerRow?.id ?? '');
    expect(events.map((e) => e.action)).toContain('signup.address_taken');
  });

  it('refuses bad input with the form again and creates no account', async () => {
    const ua = new UserAgent(server.issuer);
    const { form } = await openSignUp(ua, rp, server.issuer);
    const cases = [
      { email: 'not-an-address', password: PASSWORD, message: 'Enter a valid email address.' },
      {
        email: uniqueEmail('x').replace('example.test', 'elsewhere.test'),
        password: PASSWORD,
        message: 'Accounts cannot be created with an address at this domain',
      },
      {
        email: uniqueEmail('short'),
        password: 'too short',
        message: 'The password must be at least 12 characters long.',
      },
      {
        email: uniqueEmail('long'),
        password: 'x'.repeat(300),
        message: 'The password must be at most 256 characters long.',
      },
      {
        email: uniqueEmail('common'),
        password: 'Password1234',
        message: 'This password is on a list of common or leaked passwords',
      },
      {
        email: 'harbourlight@example.test',
        password: 'HarbourLight forever',
        message: 'must not contain your email address',
      },
    ];
    for (const input of cases) {
      const page = await submitSignUp(ua, form, input);
      expect({ email: input.email, status: page.status }).toEqual({ email: input.email, status: 400 });
      expect(textOf(page.html)).toContain(input.message);
      expect(await server.gatehouse.storage.storage.users.findByEmail(input.email)).toBeNull();
    }
    // The allowed domains compare case-insensitively.
    const upper = `Mixed-${Date.now()}@PARTNER.example`;
    expect((await submitSignUp(ua, form, { email: upper, password: PASSWORD })).status).toBe(200);
    expect(await server.gatehouse.storage.storage.users.findByEmail(upper)).not.toBeNull();
  });

  it('refuses a sign-up form without the CSRF token, and forged or reused links', async () => {
    const ua = new UserAgent(server.issuer);
    const { form } = await openSignUp(ua, rp, server.issuer);
    const email = uniqueEmail('csrf');
    const forgedForm = await submitSignUp(ua, form, { email, password: PASSWORD }, 'forged');
    expect(forgedForm.status).toBe(403);
    expect(await server.gatehouse.storage.storage.users.findByEmail(email)).toBeNull();

    const forged = await ua.get('/email/verify?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(forged.status).toBe(400);
    expect(forged.html).toContain('data-link-invalid');
    expect((await ua.get('/email/verify?token=%3Cscript%3E')).status).toBe(400);

    await submitSignUp(ua, form, { email, password: PASSWORD });
    const link = linkIn(await mail.next(email), '/email/verify');
    const used = await useMailedLink(ua, link);
    expect(used.done.status).toBe(200);
    const reused = await ua.post('/email/verify', {
      csrf: csrfToken(used.confirm.html),
      token: new URL(link).searchParams.get('token') ?? '',
    });
    expect(reused.status).toBe(400);
    expect(reused.html).toContain('data-link-invalid');
    // The confirm button's POST needs this browser's form token.
    const other = await new UserAgent(server.issuer).post('/email/verify', { csrf: 'x', token: 'y' });
    expect(other.status).toBe(403);
  });

  it('speaks German on its pages and in its mail when the browser asks for it', async () => {
    const ua = new UserAgent(server.issuer);
    const german = { 'accept-language': 'de-DE,de;q=0.9' };
    const { form } = await openSignUp(ua, rp, server.issuer);
    const page = await ua.request(form.url, { headers: german });
    expect(page.html).toContain('<html lang="de">');
    expect(textOf(page.html)).toContain('Konto erstellen');
    const bad = await submitSignUp(ua, page, { email: 'kaputt', password: PASSWORD }, undefined);
    expect(bad.status).toBe(400);
    const email = uniqueEmail('de');
    const sent = await ua.post(form.url, { csrf: csrfToken(page.html), email, password: PASSWORD, name: '' }, german);
    expect(textOf(sent.html)).toContain('Sehen Sie in Ihr Postfach');
    const message = await mail.next(email);
    expect(message.subject).toBe('Bestätigen Sie Ihre E-Mail-Adresse für Gatehouse');
    // The page behind the link speaks the mail's language, whatever the mail client's browser says.
    const { confirm, done } = await useMailedLink(new UserAgent(server.issuer), linkIn(message, '/email/verify'));
    expect(confirm.html).toContain('<html lang="de">');
    expect(textOf(done.html)).toContain('E-Mail-Adresse bestätigt');
  });

  it('does not hold back accounts made by an administrator, whatever their email_verified', async () => {
    const user = await server.buildUser();
    expect(user.emailVerified).toBe(false);
    const { tokens } = await signIn(new UserAgent(server.issuer), rp, user);
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, user.id);
    expect(info.email_verified).toBe(false);
  });
});

describe.each(HTTP_BACKENDS)('self-registration switched off (%s)', (backend) => {
  const server = useTestServer(backend);

  it('shows no link and answers 404 at the sign-up address', async () => {
    const rp = await buildRp(server);
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('data-signup-link');
    const uid = /\/interaction\/([^/]+)\/login/.exec(page.html)?.[1] ?? '';
    expect((await ua.get(`/interaction/${uid}/signup`)).status).toBe(404);
    const posted = await ua.post(`/interaction/${uid}/signup`, {
      csrf: csrfToken(page.html),
      email: uniqueEmail(),
      password: PASSWORD,
    });
    expect(posted.status).toBe(404);
  });
});
