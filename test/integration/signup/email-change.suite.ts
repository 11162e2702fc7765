import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startMailCatcher, type MailCatcher } from '../../helpers/mail-catcher.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { accountCsrf, openAccountPage } from '../../helpers/account-pages.js';
import { BOOT_TIMEOUT, submitLogin, textOf } from '../../helpers/sessions.js';
import { UserAgent } from '../../helpers/user-agent.js';
import { linkIn, useMailedLink } from './support.js';

describe.each(HTTP_BACKENDS)('change of email address (%s)', (backend) => {
  let server: TestServer;
  let mail: MailCatcher;
  beforeAll(async () => {
    mail = await startMailCatcher();
    server = await startTestServer(backend, { mail: { smtpUrl: mail.url, from: 'Gatehouse <no-reply@example.test>' } });
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
    await mail?.close();
  });

  it('moves the account only when the link sent to the new address is used, and tells the old address', async () => {
    const user = await server.buildUser();
    const newEmail = uniqueEmail('moved');
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    expect(page.html).toContain('action="/account/email"');
    const sent = await ua.post('/account/email', { csrf: accountCsrf(page), new_email: newEmail });
    expect(sent.status).toBe(200);
    expect(sent.html).toContain('data-email-change-sent');
    const users = server.gatehouse.storage.storage.users;
    expect((await users.findById(user.id))?.email).toBe(user.email);

    const confirmMail = await mail.next(newEmail);
    expect(confirmMail.subject).toBe('Confirm your new email address for Gatehouse');
    const { confirm, done } = await useMailedLink(new UserAgent(server.issuer), linkIn(confirmMail, '/email/change'));
    expect(confirm.status).toBe(200);
    expect(done.status).toBe(200);
    expect(done.html).toContain('data-email-changed');
    const moved = await users.findById(user.id);
    expect(moved?.email).toBe(newEmail);
    expect(moved?.emailVerified).toBe(true);

    const notice = await mail.next(user.email);
    expect(notice.subject).toBe('The email address of your Gatehouse account was changed');
    expect(notice.text).toContain(`${newEmail.slice(0, 1)}***@example.test`);
    expect(notice.text).not.toContain(newEmail);
    const events = await server.gatehouse.storage.storage.audit.forSubject(user.id);
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['email.change_requested', 'email.changed']));

    // The new address signs in; the old one no longer does.
    const fresh = await openAccountPage(new UserAgent(server.issuer), newEmail, user.password);
    expect(fresh.html).toContain(newEmail);
    const stranger = new UserAgent(server.issuer);
    let login = await stranger.get('/account');
    while (login.location) login = await stranger.get(login.location);
    expect((await submitLogin(stranger, login, user.email, user.password)).status).toBe(401);
  });

  it('answers a taken address exactly as a free one, and mails its owner a notice instead of a link', async () => {
    const user = await server.buildUser();
    const other = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    const takenEmail = other.email.toUpperCase();
    const freeEmail = uniqueEmail('free');
    const taken = await ua.post('/account/email', { csrf: accountCsrf(page), new_email: takenEmail });
    const free = await ua.post('/account/email', { csrf: accountCsrf(page), new_email: freeEmail });
    expect(taken.status).toBe(200);
    expect(free.status).toBe(taken.status);
    expect(taken.html).toContain('data-email-change-sent');
    expect(textOf(taken.html).replace(takenEmail, '<address>')).toBe(textOf(free.html).replace(freeEmail, '<address>'));
    expect(textOf(taken.html)).not.toContain(other.name ?? 'Test User');

    // The owner of the taken address hears of it, with no link that could move anything.
    const notice = await mail.next(other.email);
    expect(notice.subject).toBe('Someone tried to move an account to your address at Gatehouse');
    expect(notice.text).toContain('nothing was moved and your account has not been changed');
    expect(notice.links.some((l) => l.includes('/email/change'))).toBe(false);
    expect(notice.text).not.toContain(user.email);
    // The free address gets the link.
    expect(linkIn(await mail.next(freeEmail), '/email/change')).toContain('token=');
    // Nothing changed for either account.
    const users = server.gatehouse.storage.storage.users;
    expect((await users.findById(user.id))?.email).toBe(user.email);
    expect((await users.findById(other.id))?.email).toBe(other.email);
    const requested = (await server.gatehouse.storage.storage.audit.forSubject(user.id)).filter(
      (e) => e.action === 'email.change_requested',
    );
    expect(requested.map((e) => e.details.outcome).sort()).toEqual(['address_taken', 'link_sent']);

    // In the language of the page it was asked from.
    await ua.post('/account/email', { csrf: accountCsrf(page), new_email: other.email }, { 'accept-language': 'de' });
    const german = await mail.next(other.email);
    expect(german.subject).toBe('Jemand wollte bei Gatehouse ein Konto auf Ihre Adresse umstellen');
    expect(german.text).toContain('Ihr Konto nicht verändert');

    // The account's own address is refused: that tells its owner nothing new.
    const own = await ua.post('/account/email', { csrf: accountCsrf(page), new_email: user.email });
    expect(own.status).toBe(400);
    expect(textOf(own.html)).toContain('This address cannot be used for your account.');
  });

  it('refuses an address taken between the request and the use of its link', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);

    // Free when asked, taken before the link is used.
    const wanted = uniqueEmail('wanted');
    expect((await ua.post('/account/email', { csrf: accountCsrf(page), new_email: wanted })).status).toBe(200);
    const link = linkIn(await mail.next(wanted), '/email/change');
    await server.buildUser({ email: wanted });
    const { done } = await useMailedLink(new UserAgent(server.issuer), link);
    expect(done.status).toBe(409);
    expect(done.html).toContain('data-email-change-refused');
    expect((await server.gatehouse.storage.storage.users.findById(user.id))?.email).toBe(user.email);
  });

  it('refuses an invalid address, a form without its CSRF token, and a forged or reused link', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    const invalid = await ua.post('/account/email', { csrf: accountCsrf(page), new_email: 'no at sign' });
    expect(invalid.status).toBe(400);
    expect(textOf(invalid.html)).toContain('Enter a valid email address.');
    const noCsrf = await ua.post('/account/email', { new_email: uniqueEmail() });
    expect(noCsrf.status).toBe(403);

    const forged = await ua.get('/email/change?token=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB');
    expect(forged.status).toBe(400);
    const wanted = uniqueEmail('once');
    await ua.post('/account/email', { csrf: accountCsrf(page), new_email: wanted });
    const link = linkIn(await mail.next(wanted), '/email/change');
    const browser = new UserAgent(server.issuer);
    const first = await useMailedLink(browser, link);
    expect(first.done.status).toBe(200);
    const again = await browser.post('/email/change', {
      csrf: accountCsrf(first.confirm),
      token: new URL(link).searchParams.get('token') ?? '',
    });
    expect(again.status).toBe(400);
    expect(again.html).toContain('data-link-invalid');
  });
});
