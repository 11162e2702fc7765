import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, useTestServer, type TestServer } from '../../helpers/server.js';
import { UserAgent, type Page } from '../../helpers/user-agent.js';
import { accountCsrf, openAccountPage } from '../../helpers/account-pages.js';
import { codeIn, outboxSms } from '../../helpers/code-outbox.js';
import { testClock } from '../../helpers/clock.js';
import { textOf } from '../../helpers/sessions.js';

const hidden = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';

/** The newest SMS to `to` in the server's outbox, once every delivery in flight is written. */
async function smsCodeFor(server: TestServer, to: string): Promise<string> {
  await server.gatehouse.codeDeliveriesSettled();
  const sent = outboxSms(server.gatehouse.config.storage.dataDir).filter((m) => m.to === to);
  const last = sent.at(-1);
  if (!last) throw new Error(`no SMS to ${to}`);
  return codeIn(last.text);
}

/** A number that differs per test (the outbox is shared by the suite's server). */
let serial = 0;
const freshNumber = () => `+4915112345${String(100 + (serial++ % 900)).padStart(3, '0')}`;

describe.each(HTTP_BACKENDS)('/account email and SMS second factors (%s)', (backend) => {
  const clock = testClock();
  const server = useTestServer(backend, { sms: { defaultCountry: 'DE' } }, { clock: clock.now });

  async function signedIn(): Promise<{ ua: UserAgent; page: Page; userId: string }> {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    return { ua, page, userId: user.id };
  }

  it('adds a phone number with a texted code, refuses a wrong code, and removes it', async () => {
    const { ua, page, userId } = await signedIn();
    expect(page.html).toContain('data-phone-number>No phone number.');
    expect(page.html).toContain('data-sms-hint>An authenticator app or a passkey is safer than SMS');
    const csrf = accountCsrf(page);
    const number = freshNumber();
    // Typed nationally: the configured default country (DE) reads it.
    const national = `0${number.slice(3)}`;
    const sent = await ua.post('/account/phone/start', { csrf, phone_number: national });
    expect(sent.status).toBe(200);
    expect(sent.html).toContain(`data-phone-sent>We texted a code to ${number}.`);
    expect(sent.html).toMatch(/data-resend-wait="\d+"/);
    const code = await smsCodeFor(server, number);
    const challengeId = hidden(sent.html, 'challenge_id');

    const wrong = await ua.post('/account/phone/confirm', {
      csrf,
      challenge_id: challengeId,
      phone_number: number,
      code: code === '000000' ? '111111' : '000000',
    });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('That code is not right. Attempts left: 4.');
    expect(await server.gatehouse.storage.storage.phones.find(userId)).toBeUndefined();

    const confirmed = await ua.post('/account/phone/confirm', {
      csrf,
      challenge_id: challengeId,
      phone_number: number,
      code,
    });
    expect(confirmed.status).toBe(303);
    expect(confirmed.location).toContain('/account?done=phone');
    const after = await ua.get('/account?done=phone');
    expect(after.html).toContain(`data-phone-number>Codes go to ${number}.`);
    expect(after.html).toContain('Your phone number is confirmed');
    expect(after.html).toContain('data-event="mfa.sms.enrolled"');

    const removed = await ua.post('/account/phone/remove', { csrf });
    expect(removed.status).toBe(303);
    expect(await server.gatehouse.storage.storage.phones.find(userId)).toBeUndefined();
    expect((await ua.get('/account')).html).toContain('data-phone-number>No phone number.');
  });

  it('refuses a number it cannot read or of a country not allowed, on the page, in German too', async () => {
    const { ua, page } = await signedIn();
    const csrf = accountCsrf(page);
    const bad = await ua.post('/account/phone/start', { csrf, phone_number: 'call me' });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('Enter a mobile number with its country code');
    const abroad = await ua.post('/account/phone/start', { csrf, phone_number: '+61 412 345 678' });
    expect(abroad.status).toBe(400);
    expect(abroad.html).toContain('Phone numbers from this country (AU) are not accepted.');
    const german = await ua.post(
      '/account/phone/start',
      { csrf, phone_number: 'call me' },
      { 'accept-language': 'de' },
    );
    expect(german.html).toContain('Geben Sie eine Mobilnummer mit Ländervorwahl ein');
  });

  it('turns codes by email on and off, and stores the factor to ask for first', async () => {
    const { ua, page, userId } = await signedIn();
    const csrf = accountCsrf(page);
    expect(page.html).toContain('data-email-code-status>Off.');
    expect((await ua.post('/account/codes/email/enable', { csrf })).status).toBe(303);
    let now = await ua.get('/account');
    expect(now.html).toContain('data-email-code-status>On.');
    expect(await server.gatehouse.storage.storage.phones.factors(userId)).toEqual(['email']);

    // With one factor there is nothing to choose; with two, the choice is offered and stored.
    expect(now.html).not.toContain('data-default-factor');
    const number = freshNumber();
    const sent = await ua.post('/account/phone/start', { csrf, phone_number: number });
    const code = await smsCodeFor(server, number);
    await ua.post('/account/phone/confirm', {
      csrf,
      challenge_id: hidden(sent.html, 'challenge_id'),
      phone_number: number,
      code,
    });
    now = await ua.get('/account');
    expect(now.html).toContain('data-default-factor="none"');
    const chosen = await ua.post('/account/second-factors/default', { csrf, method: 'sms' });
    expect(chosen.status).toBe(303);
    expect(await server.gatehouse.storage.storage.phones.defaultFactor(userId)).toBe('sms');
    expect((await ua.get('/account')).html).toContain('data-default-factor="sms"');

    // A factor the user does not have cannot be chosen; an unknown one is a bad form.
    expect((await ua.post('/account/second-factors/default', { csrf, method: 'totp' })).status).toBe(400);
    expect((await ua.post('/account/second-factors/default', { csrf, method: 'carrier-pigeon' })).status).toBe(400);
    expect(await server.gatehouse.storage.storage.phones.defaultFactor(userId)).toBe('sms');

    // Removing the chosen factor voids the choice.
    await ua.post('/account/phone/remove', { csrf });
    await ua.post('/account/codes/email/disable', { csrf });
    expect(await server.gatehouse.storage.storage.phones.factors(userId)).toEqual([]);
    expect(await server.gatehouse.storage.storage.phones.defaultFactor(userId)).toBe('sms');
    expect((await ua.get('/account')).html).not.toContain('data-default-factor');
  });

  it('shows the resend wait on the clock, answers a new code asked for too soon with 429 on the page, then sends it', async () => {
    const { ua, page } = await signedIn();
    const csrf = accountCsrf(page);
    const number = freshNumber();
    const smsTo = async () => {
      await server.gatehouse.codeDeliveriesSettled();
      return outboxSms(server.gatehouse.config.storage.dataDir).filter((m) => m.to === number).length;
    };
    const sent = await ua.post('/account/phone/start', { csrf, phone_number: number });
    // The test server's cooldown is 60 s (its codeResend window), counted on its clock.
    expect(sent.html).toContain('data-resend-wait="60"');
    expect(sent.html).toContain('/assets/resend-countdown.js');
    expect(await smsTo()).toBe(1);
    const pending = { csrf, challenge_id: hidden(sent.html, 'challenge_id'), phone_number: number };

    const early = await ua.post('/account/phone/resend', pending);
    expect(early.status).toBe(429);
    expect(early.headers.get('retry-after')).toBe('60');
    expect(early.html).toContain('Please wait 60 seconds before asking for a new code.');
    expect(early.html).toContain('data-phone-sent'); // the code page again: the first code still works
    // Starting over from the number's form is the same request, and as early.
    const restart = await ua.post('/account/phone/start', { csrf, phone_number: number });
    expect(restart.status).toBe(429);
    expect(await smsTo()).toBe(1);

    clock.advance(20_000);
    const wrong = await ua.post('/account/phone/confirm', { ...pending, code: 'x' });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('data-resend-wait="40"');
    expect(textOf(wrong.html)).toContain('Nothing arrived? You can ask for a new code in 40 s.');
    const stillEarly = await ua.post('/account/phone/resend', pending);
    expect(stillEarly.status).toBe(429);
    expect(stillEarly.headers.get('retry-after')).toBe('40');

    clock.advance(40_000);
    const resent = await ua.post('/account/phone/resend', pending);
    expect(resent.status).toBe(200);
    expect(resent.html).toContain('data-resend-wait="60"');
    expect(hidden(resent.html, 'challenge_id')).not.toBe(pending.challenge_id);
    expect(await smsTo()).toBe(2);
  });

  it('refuses a forged form', async () => {
    const { ua } = await signedIn();
    expect((await ua.post('/account/codes/email/enable', { csrf: 'forged' })).status).toBe(403);
    expect((await ua.post('/account/phone/start', { csrf: 'forged', phone_number: '+4915112345678' })).status).toBe(
      403,
    );
    expect(
      (await ua.post('/account/phone/resend', { csrf: 'forged', challenge_id: '', phone_number: '+4915112345678' }))
        .status,
    ).toBe(403);
  });

  it('needs a recent sign-in for every change', async () => {
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
      const csrf = accountCsrf(page);
      clock.advance(2100);
      for (const [path, fields] of [
        ['/account/codes/email/enable', {}],
        ['/account/phone/start', { phone_number: '+4915112345678' }],
        ['/account/second-factors/default', { method: 'none' }],
      ] as const) {
        const refused = await ua.post(path, { csrf, ...fields });
        expect(refused.status).toBe(303);
        expect(refused.location).toContain('/account/login?reauth=1');
      }
      expect(await old.gatehouse.storage.storage.phones.factors(user.id)).toEqual([]);
      await old.gatehouse.codeDeliveriesSettled();
      expect(outboxSms(old.gatehouse.config.storage.dataDir)).toEqual([]);
    } finally {
      await old.close();
    }
  }, 120_000);
});
