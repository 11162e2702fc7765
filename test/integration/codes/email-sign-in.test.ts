import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startMailCatcher, type MailCatcher } from '../../helpers/mail-catcher.js';
import { testClock } from '../../helpers/clock.js';
import { uniqueEmail } from '../../helpers/factories.js';
import {
  UserAgent,
  actionOf,
  alertText,
  buildRp,
  follow,
  openAuthorization,
  pageKind,
  textOf,
  type TestRp,
} from '../../helpers/sessions.js';
import { csrfToken, type Page } from '../../helpers/user-agent.js';
import { ACR, authenticationOf, finishAtRp } from '../mfa/support.js';
import {
  askForEmailSignIn,
  atCheckMailPage,
  codeInMail,
  emailSignInAction,
  handoffCodeOn,
  signInLinkIn,
  submitEmailCode,
} from './support.js';

const MAX_ATTEMPTS = 3;

/** The "Send again" form of the check-your-mail page. */
const resendAction = (page: Page) => actionOf(page, '/email-sign-in/resend');
const CODE_TTL_SECONDS = 300;

describe.each(HTTP_BACKENDS)('email sign-in without a password (%s)', (backend) => {
  let mail: MailCatcher;
  let server: TestServer;
  let rp: TestRp;
  const clock = testClock();

  beforeAll(async () => {
    mail = await startMailCatcher();
    server = await startTestServer(
      backend,
      {
        mail: { smtpUrl: mail.url, from: 'Gatehouse <no-reply@example.test>' },
        codes: { maxAttempts: MAX_ATTEMPTS, codeTtlSeconds: CODE_TTL_SECONDS },
      },
      { clock: clock.now },
    );
    rp = await buildRp(server);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await mail?.close();
  });

  it('offers both buttons on the sign-in page and signs in with an emailed code: amr otp, the password acr', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { login, answer, request } = await askForEmailSignIn(ua, server, rp, user.email, 'code');
    expect(login.html).toContain('data-email-sign-in="link"');
    expect(login.html).toContain('data-email-sign-in="code"');
    expect(answer.status).toBe(303);
    // The binding cookie: HttpOnly, SameSite=Lax, scoped to this sign-in's code entry and the link's page.
    const cookies = answer.headers.getSetCookie().filter((c) => c.startsWith('gh_email_sign_in='));
    expect(cookies).toHaveLength(2);
    for (const cookie of cookies) {
      expect(cookie).toMatch(/httponly/i);
      expect(cookie).toMatch(/samesite=lax/i);
    }
    expect(cookies.map((c) => /path=([^;]+)/i.exec(c)?.[1]).sort()).toEqual([
      '/email/sign-in',
      expect.stringMatching(/^\/interaction\/[^/]+\/email-sign-in$/),
    ]);
    const page = await follow(ua, answer.location ?? '', server.issuer);
    expect(page.status).toBe(200);
    expect(page.html).toContain('data-email-sent="code"');
    expect(page.html).toContain('data-resend-wait');

    const code = codeInMail(await mail.next(user.email));
    const done = await submitEmailCode(ua, page, code);
    expect(done.status).toBe(303);
    const tokens = await finishAtRp(ua, server, rp, done, request);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(authenticationOf(tokens)).toEqual({ amr: ['otp'], acr: ACR.password });

    // The code is spent: posting it again changes nothing.
    const again = await submitEmailCode(ua, page, code);
    expect(again.status).toBeGreaterThanOrEqual(400);
    expect(again.status).toBeLessThan(500);
  });

  it('signs in the browser that asked when it opens the mailed link, and refuses the link a second time', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { request, page } = await atCheckMailPage(ua, server, rp, user.email, 'link');
    expect(page.html).toContain('data-email-sent="link"');
    const link = signInLinkIn(await mail.next(user.email));
    expect(link.startsWith(`${server.issuer}/email/sign-in?token=`)).toBe(true);

    const opened = await ua.get(link);
    expect(opened.status).toBe(303);
    expect(opened.location).toMatch(/\/interaction\/[^/]+\/email-sign-in\/resume$/);
    const tokens = await finishAtRp(ua, server, rp, opened, request);
    expect(authenticationOf(tokens)).toEqual({ amr: ['otp'], acr: ACR.password });

    const replayed = await new UserAgent(server.issuer).get(link);
    const confirm = await new UserAgent(server.issuer).post(`${server.issuer}/email/sign-in`, {
      csrf: 'x',
      token: new URL(link).searchParams.get('token') ?? '',
    });
    expect(replayed.status).toBe(200); // only the confirm button: a GET never spends a link
    expect(confirm.status).toBe(403);
    // Its cookie went with the sign-in: the browser now sees the button, whose POST refuses the spent link.
    const reopened = await ua.get(link);
    expect(reopened.status).toBe(200);
    const spent = await ua.post(`${server.issuer}/email/sign-in`, {
      csrf: csrfToken(reopened.html),
      token: new URL(link).searchParams.get('token') ?? '',
    });
    expect(spent.status).toBe(400);
    expect(spent.html).toContain('data-link-invalid');
  });

  it('shows a code to another browser that opens the link, never signs it in, and the asking browser finishes with it', async () => {
    const user = await server.buildUser();
    const asking = new UserAgent(server.issuer);
    const { request, page } = await atCheckMailPage(asking, server, rp, user.email, 'link');
    const link = signInLinkIn(await mail.next(user.email));

    const other = new UserAgent(server.issuer);
    const confirm = await other.get(link);
    expect(confirm.status).toBe(200);
    expect(handoffCodeOn(confirm)).toBeUndefined();
    const shown = await other.post(new URL(/action="([^"]+)"/.exec(confirm.html)?.[1] ?? '', link).toString(), {
      csrf: csrfToken(confirm.html),
      token: new URL(link).searchParams.get('token') ?? '',
    });
    expect(shown.status).toBe(200);
    const code = handoffCodeOn(shown);
    expect(code).toMatch(/^\d{6}$/);
    expect(shown.location).toBeNull();

    // The other browser has no session: a sign-in there still asks for credentials.
    const there = await openAuthorization(other, rp, server.issuer);
    expect(pageKind(there.page)).toBe('login');

    const done = await submitEmailCode(asking, page, code ?? '');
    expect(done.status).toBe(303);
    const tokens = await finishAtRp(asking, server, rp, done, request);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(authenticationOf(tokens).amr).toEqual(['otp']);

    // The link is spent.
    expect(
      (
        await other.post(new URL('/email/sign-in', link).toString(), {
          csrf: csrfToken(confirm.html),
          token: new URL(link).searchParams.get('token') ?? '',
        })
      ).status,
    ).toBe(400);
  });

  it('refuses a code typed in a browser other than the one that asked', async () => {
    const user = await server.buildUser();
    const asking = new UserAgent(server.issuer);
    await atCheckMailPage(asking, server, rp, user.email, 'code');
    const code = codeInMail(await mail.next(user.email));
    const stranger = new UserAgent(server.issuer);
    const own = await atCheckMailPage(stranger, server, rp, uniqueEmail('nobody'), 'code');
    const answer = await submitEmailCode(stranger, own.page, code);
    expect(answer.status).toBe(401);
  });

  it('says how many attempts are left after a wrong code, then refuses even the right one once they are used up', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { page } = await atCheckMailPage(ua, server, rp, user.email, 'code');
    const code = codeInMail(await mail.next(user.email));
    const wrong = code === '000000' ? '111111' : '000000';
    const first = await submitEmailCode(ua, page, wrong);
    expect(first.status).toBe(401);
    expect(alertText(first.html)).toBe(`That code is not correct. Attempts left: ${MAX_ATTEMPTS - 1}.`);
    await submitEmailCode(ua, page, wrong);
    const last = await submitEmailCode(ua, page, wrong);
    expect(alertText(last.html)).toContain('Too many wrong codes');
    const right = await submitEmailCode(ua, page, code);
    expect(right.status).toBe(400);
    expect(alertText(right.html)).toContain('Too many wrong codes');
  });

  it('shows the seconds until a resend on the clock, refuses an early one with 429 on the page, and sends once they pass', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { page } = await atCheckMailPage(ua, server, rp, user.email, 'code');
    await mail.next(user.email);
    // The test server's cooldown is 60 s (its codeResend window); the page counts it on the server's clock.
    expect(page.html).toContain('data-resend-wait="60"');
    expect(page.html).toContain('/assets/resend-countdown.js');
    clock.advance(18_000);
    const later = await ua.get(page.url);
    expect(later.html).toContain('data-resend-wait="42"');
    expect(textOf(later.html)).toContain('You can ask for a new one in 42 s.');

    const sentBefore = mail.messages.length;
    const early = await ua.post(resendAction(later), { csrf: csrfToken(later.html) });
    expect(early.status).toBe(429);
    expect(early.headers.get('retry-after')).toBe('42');
    expect(alertText(early.html)).toBe('Please wait 42 seconds before asking for a new code.');
    expect(early.html).toContain('data-email-sent="code"'); // the same page: the code field still works
    expect(mail.messages.length).toBe(sentBefore);

    clock.advance(42_000);
    const now = await ua.get(page.url);
    expect(now.html).not.toContain('data-resend-wait');
    const resent = await ua.post(resendAction(now), { csrf: csrfToken(now.html) });
    expect(resent.status).toBe(303);
    const second = codeInMail(await mail.next(user.email));
    const after = await follow(ua, resent.location ?? '', server.issuer);
    expect(after.html).toContain('data-resend-wait="60"');
    expect((await submitEmailCode(ua, after, second)).status).toBe(303);
  });

  it('refuses an expired code with a clear message', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { page } = await atCheckMailPage(ua, server, rp, user.email, 'code');
    const code = codeInMail(await mail.next(user.email));
    clock.advance((CODE_TTL_SECONDS + 1) * 1000);
    const answer = await submitEmailCode(ua, page, code);
    expect(answer.status).toBe(410);
    expect(alertText(answer.html)).toBe('That code has expired. Ask for a new one.');
  });

  it('answers an unknown address exactly as a known one and sends it nothing', async () => {
    const unknown = uniqueEmail('unknown');
    const user = await server.buildUser();
    const a = await atCheckMailPage(new UserAgent(server.issuer), server, rp, unknown, 'link');
    const b = await atCheckMailPage(new UserAgent(server.issuer), server, rp, user.email, 'link');
    expect(a.answer.status).toBe(b.answer.status);
    expect(textOf(a.page.html).replace(unknown, 'X')).toBe(textOf(b.page.html).replace(user.email, 'X'));
    await mail.next(user.email);
    expect(mail.messages.filter((m) => m.to.includes(unknown))).toEqual([]);
  });

  it('offers no email sign-in to a client with gatehouse_email_sign_in false and refuses a request posted there', async () => {
    const off = await buildRp(server, { emailSignIn: false });
    const user = await server.buildUser();
    const before = mail.messages.length;
    for (const mode of ['code', 'link'] as const) {
      const { login, answer } = await askForEmailSignIn(new UserAgent(server.issuer), server, off, user.email, mode);
      expect(login.html).not.toContain('data-email-sign-in');
      expect(answer.status).toBe(403);
      expect(alertText(answer.html)).toBe('Signing in with an email link or code is not available here.');
      expect(answer.headers.getSetCookie().some((c) => c.startsWith('gh_email_sign_in='))).toBe(false);
    }
    await server.gatehouse.codeDeliveriesSettled();
    expect(mail.messages.length).toBe(before);
    // The deployment still offers it to the other clients.
    const { login } = await askForEmailSignIn(new UserAgent(server.issuer), server, rp, user.email, 'code');
    expect(login.html).toContain('data-email-sign-in="code"');
    await mail.next(user.email);
  });

  it('refuses a malformed address with the form again, and a bad or unknown link with a clear page', async () => {
    const ua = new UserAgent(server.issuer);
    const bad = await askForEmailSignIn(ua, server, rp, 'not an address', 'code');
    expect(bad.answer.status).toBe(400);
    const empty = await ua.post(emailSignInAction(bad.login), {
      csrf: csrfToken(bad.login.html),
      email: '',
      mode: 'link',
    });
    expect(empty.status).toBe(400);
    expect(alertText(empty.html)).toBe('Enter your email address first.');
    expect((await ua.get(`${server.issuer}/email/sign-in?token=short`)).status).toBe(400);
    const forged = await new UserAgent(server.issuer).get(`${server.issuer}/email/sign-in?token=${'A'.repeat(43)}`);
    expect(forged.status).toBe(200); // a foreign browser first sees only the button
  });
});

describe.each(HTTP_BACKENDS)('email sign-in limits (%s)', (backend) => {
  let mail: MailCatcher;
  let server: TestServer;
  let rp: TestRp;

  beforeAll(async () => {
    mail = await startMailCatcher();
    server = await startTestServer(backend, {
      mail: { smtpUrl: mail.url, from: 'Gatehouse <no-reply@example.test>' },
      rateLimits: { codeResend: { points: 1, durationSeconds: 60 } },
    });
    rp = await buildRp(server);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await mail?.close();
  });

  it('answers a resend within the cooldown with 429 and Retry-After, on the page and the resend button', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { page } = await atCheckMailPage(ua, server, rp, user.email, 'code');
    expect(page.html).toMatch(/data-resend-wait="(60|59)"/);
    const resend = await ua.post(resendAction(page), { csrf: csrfToken(page.html) });
    expect(resend.status).toBe(429);
    expect(Number(resend.headers.get('retry-after'))).toBeGreaterThan(0);
    const again = await askForEmailSignIn(new UserAgent(server.issuer), server, rp, user.email, 'link');
    expect(again.answer.status).toBe(429);
    expect(Number(again.answer.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe.each(HTTP_BACKENDS)('email sign-in turned off (%s)', (backend) => {
  let server: TestServer;
  let rp: TestRp;
  beforeAll(async () => {
    server = await startTestServer(backend, { codes: { emailSignIn: false } });
    rp = await buildRp(server);
  }, 60_000);
  afterAll(() => server?.close());

  it('shows no email buttons and refuses the request', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { login, answer } = await askForEmailSignIn(ua, server, rp, user.email, 'link');
    expect(login.html).not.toContain('data-email-sign-in');
    expect(answer.status).toBe(403);
    expect(alertText(answer.html)).toBe('Signing in with an email link or code is not available here.');
  });
});
