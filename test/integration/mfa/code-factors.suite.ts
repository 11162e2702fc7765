import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startMailCatcher, type MailCatcher } from '../../helpers/mail-catcher.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../helpers/sms-gateways.js';
import { testClock } from '../../helpers/clock.js';
import type { TestUser } from '../../helpers/factories.js';
import { UserAgent, actionOf, alertText, buildRp, type TestRp } from '../../helpers/sessions.js';
import { csrfToken, type Page } from '../../helpers/user-agent.js';
import {
  ACR,
  authenticationOf,
  buildTotpUser,
  finishAtRp,
  passwordStep,
  stepKind,
  submitCode,
  totpCode,
} from './support.js';
import { SMS_SECRET, codeInMail, codeInSms, nthSms } from '../codes/support.js';

const PHONE = '+491701234567';

async function withFactors(server: TestServer, user: TestUser, channels: Array<'email' | 'sms'>): Promise<void> {
  const { phones } = server.gatehouse.storage.storage;
  if (channels.includes('sms')) await phones.set(user.id, PHONE, true);
  for (const channel of channels) await phones.enableFactor(user.id, channel);
}

const sendCode = (ua: UserAgent, page: Page, channel: string) =>
  ua.post(actionOf(page, '/mfa/send-code'), { csrf: csrfToken(page.html), channel });
const enterCode = (ua: UserAgent, page: Page, code: string) =>
  ua.post(actionOf(page, '/mfa/sent-code'), { csrf: csrfToken(page.html), code });
/** The second step's page, whichever factors it shows (no app: no /mfa/code form). */
const atSecondStep = (page: Page) =>
  page.status < 500 && page.html.includes('id="page-title"') && page.html.includes('Confirm it is you');
const offered = (page: Page) => [...page.html.matchAll(/data-send-code="([a-z]+)"/g)].map((m) => m[1]);
/** The second step's factors in the order the page shows them (views/interaction/mfa.ejs). */
const factorOrder = (page: Page) => [...page.html.matchAll(/data-factor="([a-z]+)"/g)].map((m) => m[1]);
/** What has the page's focus: the element carrying `autofocus`, by its id or its form's factor. */
const focused = (page: Page) => {
  const at = page.html.indexOf(' autofocus');
  if (at < 0) return undefined;
  const before = page.html.slice(0, at);
  return /[^]*data-factor="([a-z]+)"/.exec(before)?.[1];
};

describe.each(HTTP_BACKENDS)('email and SMS codes as the second step (%s)', (backend) => {
  let mail: MailCatcher;
  let sms: WebhookReceiver;
  let server: TestServer;
  let rp: TestRp;
  const clock = testClock();

  beforeAll(async () => {
    mail = await startMailCatcher();
    sms = await startWebhookReceiver({ secret: SMS_SECRET });
    server = await startTestServer(
      backend,
      {
        mail: { smtpUrl: mail.url, from: 'Gatehouse <no-reply@example.test>' },
        sms: {
          transport: 'webhook',
          webhook: { url: sms.url, secret: SMS_SECRET, timeoutMs: 5000, attempts: 1, initialDelayMs: 0 },
        },
      },
      { clock: clock.now },
    );
    rp = await buildRp(server);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await mail?.close();
    await sms?.close();
  });

  it('sends an SMS code at the second step with the hint that an app is safer: amr pwd sms mfa, the mfa acr', async () => {
    const user = await server.buildUser();
    await withFactors(server, user, ['sms']);
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    expect(atSecondStep(first.page)).toBe(true);
    expect(offered(first.page)).toEqual(['sms']);
    expect(first.page.html).toContain('data-sms-hint');

    const before = sms.received.length;
    const sent = await sendCode(ua, first.page, 'sms');
    expect(sent.status).toBe(200);
    expect(sent.html).toContain('data-sent-code="sms"');
    const message = await nthSms(sms, before + 1);
    expect(message.to).toBe(PHONE);

    const wrong = await enterCode(ua, sent, '000000' === codeInSms(message.text) ? '111111' : '000000');
    expect(wrong.status).toBe(401);
    expect(alertText(wrong.html)).toMatch(/Attempts left: \d/);

    const done = await enterCode(ua, wrong, codeInSms(message.text));
    expect(done.status).toBe(303);
    const tokens = await finishAtRp(ua, server, rp, done, first.request);
    expect(authenticationOf(tokens)).toEqual({ amr: ['pwd', 'sms', 'mfa'], acr: ACR.mfa });
  });

  it('sends an email code at the second step: amr pwd otp mfa', async () => {
    const user = await server.buildUser();
    await withFactors(server, user, ['email']);
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    expect(offered(first.page)).toEqual(['email']);
    const sent = await sendCode(ua, first.page, 'email');
    expect(sent.html).toContain('data-sent-code="email"');
    const done = await enterCode(ua, sent, codeInMail(await mail.next(user.email)));
    const tokens = await finishAtRp(ua, server, rp, done, first.request);
    expect(authenticationOf(tokens)).toEqual({ amr: ['pwd', 'otp', 'mfa'], acr: ACR.mfa });
  });

  it('never meets a phishing-resistant acr with a code: none is offered, a posted one is refused, the step stays', async () => {
    const user = await server.buildUser();
    await withFactors(server, user, ['sms', 'email']);
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user, { acr_values: ACR.phishingResistant });
    expect(atSecondStep(first.page)).toBe(true);
    expect(offered(first.page)).toEqual([]);
    expect(first.page.html).toContain('data-codes-not-enough');
    const before = sms.received.length;
    const refused = await ua.post(first.page.url.replace(/\/?$/, '') + '/mfa/send-code', {
      csrf: csrfToken(first.page.html),
      channel: 'sms',
    });
    expect(refused.status).toBe(400);
    expect(alertText(refused.html)).toBe('That way of receiving a code is not available for this sign-in.');
    expect(atSecondStep(refused)).toBe(true);
    expect(sms.received.length).toBe(before);
  });

  it("offers the user's default second factor first, and the usual order without one", async () => {
    const chose = await buildTotpUser(server);
    await withFactors(server, chose, ['email']);
    await server.gatehouse.storage.storage.phones.setDefaultFactor(chose.id, 'email');
    const first = await passwordStep(new UserAgent(server.issuer), server, rp, chose);
    expect(factorOrder(first.page)).toEqual(['email', 'totp']);
    expect(focused(first.page)).toBe('email');

    const none = await buildTotpUser(server);
    await withFactors(server, none, ['email']);
    const usual = await passwordStep(new UserAgent(server.issuer), server, rp, none);
    expect(factorOrder(usual.page)).toEqual(['totp', 'email']);
    expect(focused(usual.page)).toBe('totp');

    // Once a code is sent, its field leads and takes the focus, whatever the default.
    const ua = new UserAgent(server.issuer);
    const step = await passwordStep(ua, server, rp, none);
    const sent = await sendCode(ua, step.page, 'email');
    expect(factorOrder(sent)).toEqual(['totp', 'email']);
    expect(sent.html.indexOf('data-sent-code="email"')).toBeLessThan(sent.html.indexOf('data-factor="totp"'));
    expect(sent.html).toMatch(/id="sent-code"[^>]*autofocus/);
    expect(sent.html).not.toMatch(/id="totp-code"[^>]*autofocus/);
    await mail.next(none.email);
  });

  it('shows the resend wait on the clock and answers a new SMS too soon with 429 on the step, then sends it', async () => {
    const user = await server.buildUser();
    await withFactors(server, user, ['sms']);
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    const before = sms.received.length;
    const sent = await sendCode(ua, first.page, 'sms');
    await nthSms(sms, before + 1);
    // The test server's cooldown is 60 s (its codeResend window).
    expect(sent.html).toContain('data-resend-wait="60"');
    clock.advance(45_000);
    const early = await sendCode(ua, sent, 'sms');
    expect(early.status).toBe(429);
    expect(early.headers.get('retry-after')).toBe('15');
    expect(alertText(early.html)).toBe('Please wait 15 seconds before asking for a new code.');
    expect(early.html).toContain('data-sent-code="sms"'); // the code sent first can still be typed
    expect(early.html).toContain('data-resend-wait="15"');
    expect(sms.received.length).toBe(before + 1);

    clock.advance(15_000);
    const again = await sendCode(ua, early, 'sms');
    expect(again.status).toBe(200);
    const message = await nthSms(sms, before + 2);
    const done = await enterCode(ua, again, codeInSms(message.text));
    expect(done.status).toBe(303);
  });

  it('never offers or takes SMS at a client with gatehouse_sms false, not even from a session SMS made elsewhere', async () => {
    const smsOff = await buildRp(server, { sms: false });
    const user = await buildTotpUser(server);
    await withFactors(server, user, ['sms']);
    const before = sms.received.length;

    const ua = new UserAgent(server.issuer);
    const there = await passwordStep(ua, server, smsOff, user);
    expect(factorOrder(there.page)).toEqual(['totp']);
    expect(there.page.html).not.toContain('data-sms-hint');
    // No button for it; a request posted anyway is refused and the step stays.
    const refused = await ua.post(there.page.url.replace(/\/?$/, '') + '/mfa/send-code', {
      csrf: csrfToken(there.page.html),
      channel: 'sms',
    });
    expect(refused.status).toBe(400);
    expect(alertText(refused.html)).toBe('That way of receiving a code is not available for this sign-in.');
    expect(factorOrder(refused)).toEqual(['totp']);

    // Signed in with SMS at a client that takes it, the same browser is asked again at this one.
    const other = new UserAgent(server.issuer);
    const atOn = await passwordStep(other, server, rp, user);
    const sent = await sendCode(other, atOn.page, 'sms');
    const message = await nthSms(sms, before + 1);
    const tokensOn = await finishAtRp(
      other,
      server,
      rp,
      await enterCode(other, sent, codeInSms(message.text)),
      atOn.request,
    );
    expect(authenticationOf(tokensOn).amr).toEqual(['pwd', 'sms', 'mfa']);
    const atOff = await passwordStep(other, server, smsOff, user);
    expect(atOff.steps).toEqual([]); // no password: the session holds
    expect(factorOrder(atOff.page)).toEqual(['totp']);
    const answered = await submitCode(other, atOff.page, 'totp', await totpCode(user.secret));
    const tokensOff = await finishAtRp(other, server, smsOff, answered, atOff.request);
    expect(authenticationOf(tokensOff)).toEqual({ amr: ['pwd', 'otp', 'mfa'], acr: ACR.mfa });
    expect(sms.received.length).toBe(before + 1);
  });

  it('signs a user with SMS alone in by password at a client with SMS off, and has them set up an app where it requires one', async () => {
    const user = await server.buildUser();
    await withFactors(server, user, ['sms']);
    const smsOff = await buildRp(server, { sms: false });
    const ua = new UserAgent(server.issuer);
    const plain = await passwordStep(ua, server, smsOff, user);
    expect(plain.page.status).toBe(303);
    expect(authenticationOf(await finishAtRp(ua, server, smsOff, plain.page, plain.request))).toEqual({
      amr: ['pwd'],
      acr: ACR.password,
    });

    const strict = await buildRp(server, { sms: false, mfa: 'required' });
    const enrol = await passwordStep(new UserAgent(server.issuer), server, strict, user);
    expect(stepKind(enrol.page)).toBe('mfa_enrol');
    expect(enrol.page.html).not.toContain('data-send-code');
  });

  it('refuses a channel the user does not have', async () => {
    const user = await server.buildUser();
    await withFactors(server, user, ['email']);
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    const refused = await sendCode(ua, first.page, 'sms');
    expect(refused.status).toBe(400);
    const noCode = await ua.post(first.page.url.replace(/\/?$/, '') + '/mfa/sent-code', {
      csrf: csrfToken(first.page.html),
      code: '123456',
    });
    expect(noCode.status).toBe(400);
  });
});

describe.each(HTTP_BACKENDS)('SMS turned off by policy (%s)', (backend) => {
  let server: TestServer;
  let rp: TestRp;
  beforeAll(async () => {
    server = await startTestServer(backend, { sms: { enabled: false } });
    rp = await buildRp(server);
  }, 60_000);
  afterAll(() => server?.close());

  it('is not offered: a user with only SMS gets no second step, one with email too sees only email', async () => {
    const smsOnly = await server.buildUser();
    await withFactors(server, smsOnly, ['sms']);
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, smsOnly);
    expect(first.page.status).toBe(303);
    const tokens = await finishAtRp(ua, server, rp, first.page, first.request);
    expect(authenticationOf(tokens).amr).toEqual(['pwd']);

    const both = await server.buildUser();
    await withFactors(server, both, ['sms', 'email']);
    const other = new UserAgent(server.issuer);
    const step = await passwordStep(other, server, rp, both);
    expect(offered(step.page)).toEqual(['email']);
    expect((await sendCode(other, step.page, 'sms')).status).toBe(400);
  });

  it('falls back to the usual order when the default is SMS and SMS is off', async () => {
    const user = await buildTotpUser(server);
    await withFactors(server, user, ['sms', 'email']);
    await server.gatehouse.storage.storage.phones.setDefaultFactor(user.id, 'sms');
    const step = await passwordStep(new UserAgent(server.issuer), server, rp, user);
    expect(factorOrder(step.page)).toEqual(['totp', 'email']);
  });
});
