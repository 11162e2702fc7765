import { generateToken } from '../../src/codes/secrets.js';
import { InvalidInputError, PolicyRefusedError } from '../../src/errors/domain-errors.js';
import { RateLimitedError } from '../../src/security/rate-limits.js';
import type { Config } from '../../src/config/schema.js';
import { testClock } from '../helpers/clock.js';
import { codeIn, linkIn, outboxMail, outboxSms } from '../helpers/code-outbox.js';
import { uniqueEmail } from '../helpers/factories.js';
import { useServices, type TestServices } from '../helpers/services.js';

const ORIGIN = { ip: '203.0.113.7', userAgent: 'jest' };
const GENEROUS = { points: 1_000_000, durationSeconds: 60 };
/** The send limits out of the way, for the tests of everything else (the limits have their own rig below). */
const OPEN_LIMITS: Partial<Config['rateLimits']> = {
  codeIp: GENEROUS,
  codeAddress: GENEROUS,
  codeResend: GENEROUS,
  smsAccount: GENEROUS,
  smsNumber: GENEROUS,
  smsDaily: GENEROUS,
};
// A German mobile number of the range reserved for fiction (Bundesnetzagentur: 0170 1234567 is a well-formed example).
const PHONE = '+49 170 1234567';

async function latestMailTo(rig: TestServices, to: string) {
  await rig.services.codeDelivery.settled();
  const mails = (await outboxMail(rig.config.storage.dataDir)).filter((m) => m.to === to);
  const mail = mails[mails.length - 1];
  if (!mail) throw new Error(`no mail to ${to}`);
  return mail;
}

async function mailCount(rig: TestServices, to: string): Promise<number> {
  await rig.services.codeDelivery.settled();
  return (await outboxMail(rig.config.storage.dataDir)).filter((m) => m.to === to).length;
}

async function latestSmsTo(rig: TestServices, to: string) {
  await rig.services.codeDelivery.settled();
  const sent = outboxSms(rig.config.storage.dataDir).filter((m) => m.to === to);
  const sms = sent[sent.length - 1];
  if (!sms) throw new Error(`no SMS to ${to}`);
  return sms;
}

/** A code of the length configured, that is not `code`. */
const otherCode = (code: string) => code.replace(/^./, (d) => String((Number(d) + 1) % 10));

/**
 * codes/ on real storage (issue 18): email sign-in by code and by browser-bound link, email
 * and SMS second factors, phone enrolment; expiry on the injected clock; the messages read
 * back from the embedded default's outboxes, as a developer would read them.
 */
describe('codes by email and SMS (services)', () => {
  const clock = testClock();
  const rig = useServices({ rateLimits: OPEN_LIMITS as Config['rateLimits'] }, undefined, {
    clock: clock.now,
    delivery: true,
  });

  const askCode = (email: string, browserBinding: string, extra: Record<string, unknown> = {}) =>
    rig.services.emailSignIn.request({ email, mode: 'code', browserBinding, locale: 'en', origin: ORIGIN, ...extra });

  describe('email sign-in code', () => {
    it('accepts the mailed code once, with amr otp; the same code again is refused', async () => {
      const user = await rig.buildUser();
      const browser = generateToken();
      const { challengeId, resendAfterSeconds } = await askCode(user.email, browser);
      expect(resendAfterSeconds).toBeGreaterThan(0);
      const mail = await latestMailTo(rig, user.email);
      expect(mail.subject).toMatch(/sign-in code/);
      const code = codeIn(mail.text);
      expect(code).toMatch(/^\d{6}$/);
      const ok = await rig.services.emailSignIn.verifyCode({
        challengeId,
        code,
        browserBinding: browser,
        origin: ORIGIN,
      });
      expect(ok).toEqual({ result: 'accepted', userId: user.id, amr: ['otp'] });
      await expect(
        rig.services.emailSignIn.verifyCode({ challengeId, code, browserBinding: browser, origin: ORIGIN }),
      ).resolves.toEqual({ result: 'expired' });
    });

    it('counts wrong codes: 5 attempts, then the right code is refused too', async () => {
      const user = await rig.buildUser();
      const browser = generateToken();
      const { challengeId } = await askCode(user.email, browser);
      const code = codeIn((await latestMailTo(rig, user.email)).text);
      const verify = (c: string) =>
        rig.services.emailSignIn.verifyCode({ challengeId, code: c, browserBinding: browser, origin: ORIGIN });
      for (let left = 4; left >= 1; left--) {
        await expect(verify(otherCode(code))).resolves.toEqual({ result: 'invalid', attemptsLeft: left });
      }
      await expect(verify(otherCode(code))).resolves.toEqual({ result: 'exhausted' });
      await expect(verify(code)).resolves.toEqual({ result: 'exhausted' });
    });

    it('refuses the code after it expires on the clock, and in another browser', async () => {
      const user = await rig.buildUser();
      const browser = generateToken();
      const { challengeId } = await askCode(user.email, browser);
      const code = codeIn((await latestMailTo(rig, user.email)).text);
      await expect(
        rig.services.emailSignIn.verifyCode({ challengeId, code, browserBinding: generateToken(), origin: ORIGIN }),
      ).resolves.toEqual({ result: 'expired' });
      clock.advance(rig.config.codes.codeTtlSeconds * 1000 + 1000);
      await expect(
        rig.services.emailSignIn.verifyCode({ challengeId, code, browserBinding: browser, origin: ORIGIN }),
      ).resolves.toEqual({ result: 'expired' });
    });

    it('a newer code voids the older one', async () => {
      const user = await rig.buildUser();
      const browser = generateToken();
      const first = await askCode(user.email, browser);
      const firstCode = codeIn((await latestMailTo(rig, user.email)).text);
      await askCode(user.email, browser);
      await expect(
        rig.services.emailSignIn.verifyCode({
          challengeId: first.challengeId,
          code: firstCode,
          browserBinding: browser,
          origin: ORIGIN,
        }),
      ).resolves.toEqual({ result: 'expired' });
    });

    it('answers an address without an account exactly as one with, and sends it nothing', async () => {
      const email = uniqueEmail('nobody');
      const browser = generateToken();
      const answer = await askCode(email, browser);
      expect(Object.keys(answer).sort()).toEqual(['challengeId', 'resendAfterSeconds']);
      expect(await mailCount(rig, email)).toBe(0);
      await expect(
        rig.services.emailSignIn.verifyCode({
          challengeId: answer.challengeId,
          code: '123456',
          browserBinding: browser,
          origin: ORIGIN,
        }),
      ).resolves.toEqual({ result: 'invalid', attemptsLeft: 4 });
    });

    it('refuses a malformed address and a client that turned email sign-in off', async () => {
      await expect(askCode('not-an-address', generateToken())).rejects.toBeInstanceOf(InvalidInputError);
      const user = await rig.buildUser();
      await expect(
        askCode(user.email, generateToken(), { clientMetadata: { gatehouse_email_sign_in: false } }),
      ).rejects.toBeInstanceOf(PolicyRefusedError);
      expect(await mailCount(rig, user.email)).toBe(0);
    });
  });

  describe('sign-in link', () => {
    const askLink = (email: string, browserBinding: string) =>
      rig.services.emailSignIn.request({
        email,
        mode: 'link',
        browserBinding,
        interactionUid: 'interaction-1',
        locale: 'de',
        origin: ORIGIN,
      });
    const tokenOf = async (email: string) => {
      const link = linkIn((await latestMailTo(rig, email)).text);
      expect(link.pathname).toBe('/email/sign-in');
      expect(link.searchParams.get('ui_locales')).toBe('de');
      return link.searchParams.get('token') ?? '';
    };

    it('signs in the browser that asked, once', async () => {
      const user = await rig.buildUser();
      const browser = generateToken();
      await askLink(user.email, browser);
      const token = await tokenOf(user.email);
      const open = () => rig.services.emailSignIn.openLink({ token, browserBinding: browser, origin: ORIGIN });
      await expect(open()).resolves.toEqual({
        result: 'signed_in',
        userId: user.id,
        amr: ['otp'],
        interactionUid: 'interaction-1',
      });
      await expect(open()).resolves.toEqual({ result: 'invalid' });
    });

    it('a newer link voids the older one; an expired link is refused', async () => {
      const user = await rig.buildUser();
      const browser = generateToken();
      await askLink(user.email, browser);
      const older = await tokenOf(user.email);
      await askLink(user.email, browser);
      const newer = await tokenOf(user.email);
      await expect(
        rig.services.emailSignIn.openLink({ token: older, browserBinding: browser, origin: ORIGIN }),
      ).resolves.toEqual({ result: 'invalid' });
      clock.advance(rig.config.codes.linkTtlSeconds * 1000 + 1000);
      await expect(
        rig.services.emailSignIn.openLink({ token: newer, browserBinding: browser, origin: ORIGIN }),
      ).resolves.toEqual({ result: 'invalid' });
    });

    it('opened in another browser, signs nothing in and shows a code that only the first browser can use', async () => {
      const user = await rig.buildUser();
      const first = generateToken();
      const { challengeId } = await askLink(user.email, first);
      const token = await tokenOf(user.email);
      const elsewhere = await rig.services.emailSignIn.openLink({
        token,
        browserBinding: generateToken(),
        origin: ORIGIN,
      });
      if (elsewhere.result !== 'other_browser') throw new Error(`expected other_browser, got ${elsewhere.result}`);
      expect(elsewhere.code).toMatch(/^\d{6}$/);
      // The link is spent: neither browser can open it again.
      await expect(
        rig.services.emailSignIn.openLink({ token, browserBinding: first, origin: ORIGIN }),
      ).resolves.toEqual({ result: 'invalid' });
      // A third browser with the shown code gets nothing.
      await expect(
        rig.services.emailSignIn.verifyCode({
          challengeId,
          code: elsewhere.code,
          browserBinding: generateToken(),
          origin: ORIGIN,
        }),
      ).resolves.toEqual({ result: 'expired' });
      await expect(
        rig.services.emailSignIn.verifyCode({
          challengeId,
          code: elsewhere.code,
          browserBinding: first,
          origin: ORIGIN,
        }),
      ).resolves.toEqual({ result: 'accepted', userId: user.id, amr: ['otp'], interactionUid: 'interaction-1' });
    });

    it('refuses a token that was never issued', async () => {
      await expect(
        rig.services.emailSignIn.openLink({ token: generateToken(), browserBinding: generateToken(), origin: ORIGIN }),
      ).resolves.toEqual({ result: 'invalid' });
    });
  });

  describe('SMS second factor', () => {
    it('enrols a number with the texted code; the SMS carries the WebOTP line', async () => {
      const user = await rig.buildUser();
      const sent = await rig.services.codeFactors.startPhoneEnrolment({
        userId: user.id,
        phoneNumber: PHONE,
        locale: 'en',
        origin: ORIGIN,
      });
      expect(sent.phoneNumber).toBe('+491701234567');
      const sms = await latestSmsTo(rig, '+491701234567');
      const code = codeIn(sms.text);
      expect(sms.text.endsWith(`@127.0.0.1 #${code}`) || sms.text.endsWith(`@localhost #${code}`)).toBe(true);
      await expect(
        rig.services.codeFactors.confirmPhoneEnrolment({
          userId: user.id,
          challengeId: sent.challengeId,
          code: otherCode(code),
          origin: ORIGIN,
        }),
      ).resolves.toEqual({ result: 'invalid', attemptsLeft: 4 });
      expect(await rig.services.codeFactors.phoneClaims(user.id)).toEqual({});
      await expect(
        rig.services.codeFactors.confirmPhoneEnrolment({
          userId: user.id,
          challengeId: sent.challengeId,
          code,
          origin: ORIGIN,
        }),
      ).resolves.toEqual({ result: 'accepted', amr: ['sms'], channel: 'sms' });
      expect(await rig.services.codeFactors.phoneClaims(user.id)).toEqual({
        phone_number: '+491701234567',
        phone_number_verified: true,
      });
      expect(await rig.services.codeFactors.summary(user.id)).toEqual({
        defaultFactor: null,
        email: false,
        sms: true,
        phone: { phoneNumber: '+491701234567', verified: true },
      });
    });

    it('refuses a malformed number and one from a country not on the list, sending nothing', async () => {
      const user = await rig.buildUser();
      const enrol = (phoneNumber: string) =>
        rig.services.codeFactors.startPhoneEnrolment({ userId: user.id, phoneNumber, locale: 'en', origin: ORIGIN });
      await expect(enrol('call me maybe')).rejects.toBeInstanceOf(InvalidInputError);
      await expect(enrol('+49 12')).rejects.toBeInstanceOf(InvalidInputError);
      // Cuba: not on the default allow-list.
      await expect(enrol('+53 5 1234567')).rejects.toBeInstanceOf(PolicyRefusedError);
    });

    it('signs in with an SMS code (amr sms); a client that turned SMS off is refused', async () => {
      const user = await rig.buildUser();
      const sent = await rig.services.codeFactors.startPhoneEnrolment({
        userId: user.id,
        phoneNumber: '+1 202 555 0143',
        locale: 'en',
        origin: ORIGIN,
      });
      const enrolCode = codeIn((await latestSmsTo(rig, '+12025550143')).text);
      await rig.services.codeFactors.confirmPhoneEnrolment({
        userId: user.id,
        challengeId: sent.challengeId,
        code: enrolCode,
        origin: ORIGIN,
      });
      await expect(
        rig.services.codeFactors.sendCode({
          userId: user.id,
          channel: 'sms',
          locale: 'en',
          clientMetadata: { gatehouse_sms: false },
          origin: ORIGIN,
        }),
      ).rejects.toBeInstanceOf(PolicyRefusedError);
      const { challengeId } = await rig.services.codeFactors.sendCode({
        userId: user.id,
        channel: 'sms',
        locale: 'de',
        origin: ORIGIN,
      });
      const sms = await latestSmsTo(rig, '+12025550143');
      expect(sms.text).toMatch(/Anmeldecode/);
      const code = codeIn(sms.text);
      const verify = () => rig.services.codeFactors.verifyCode({ userId: user.id, challengeId, code, origin: ORIGIN });
      await expect(verify()).resolves.toEqual({ result: 'accepted', amr: ['sms'], channel: 'sms' });
      await expect(verify()).resolves.toEqual({ result: 'expired' });
      // Another user cannot use this user's challenge.
      const other = await rig.buildUser();
      await expect(
        rig.services.codeFactors.verifyCode({ userId: other.id, challengeId, code, origin: ORIGIN }),
      ).resolves.toEqual({ result: 'expired' });
      await rig.services.codeFactors.removePhone(user.id, ORIGIN);
      expect(await rig.services.codeFactors.available(user.id)).toEqual([]);
    });
  });

  describe('email second factor', () => {
    it('sends a code to the account address once turned on (amr otp), and not before', async () => {
      const user = await rig.buildUser();
      const send = () =>
        rig.services.codeFactors.sendCode({ userId: user.id, channel: 'email', locale: 'en', origin: ORIGIN });
      await expect(send()).rejects.toBeInstanceOf(PolicyRefusedError);
      await rig.services.codeFactors.enableEmail(user.id, ORIGIN);
      expect(await rig.services.codeFactors.available(user.id)).toEqual(['email']);
      const { challengeId } = await send();
      const code = codeIn((await latestMailTo(rig, user.email)).text);
      await expect(
        rig.services.codeFactors.verifyCode({ userId: user.id, challengeId, code, origin: ORIGIN }),
      ).resolves.toEqual({ result: 'accepted', amr: ['otp'], channel: 'email' });
    });
  });
});

describe('send limits for codes (services)', () => {
  const rig = useServices(
    {
      rateLimits: {
        ...OPEN_LIMITS,
        codeResend: { points: 1, durationSeconds: 30 },
        smsNumber: { points: 2, durationSeconds: 3600 },
      } as Config['rateLimits'],
    },
    undefined,
    { delivery: true },
  );

  it('refuses a resend within the cooldown with its wait, whether or not the address has an account', async () => {
    const user = await rig.buildUser();
    for (const email of [user.email, uniqueEmail('nobody')]) {
      const ask = () =>
        rig.services.emailSignIn.request({
          email,
          mode: 'code',
          browserBinding: generateToken(),
          locale: 'en',
          origin: ORIGIN,
        });
      await ask();
      const refusal = await ask().catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(RateLimitedError);
      expect((refusal as RateLimitedError).policy).toBe('codeResend');
      expect((refusal as RateLimitedError).retryAfterSeconds).toBeGreaterThan(0);
      expect((refusal as RateLimitedError).retryAfterSeconds).toBeLessThanOrEqual(30);
    }
    expect(await mailCount(rig, user.email)).toBe(1);
  });

  it('refuses more SMS to one number than its limit, across accounts', async () => {
    const enrol = async () => {
      const user = await rig.buildUser();
      return rig.services.codeFactors.startPhoneEnrolment({
        userId: user.id,
        phoneNumber: '+44 7400 123456',
        locale: 'en',
        origin: ORIGIN,
      });
    };
    await enrol();
    await enrol();
    const refusal = await enrol().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(RateLimitedError);
    expect((refusal as RateLimitedError).policy).toBe('smsNumber');
    await rig.services.codeDelivery.settled();
    expect(outboxSms(rig.config.storage.dataDir).filter((m) => m.to === '+447400123456')).toHaveLength(2);
  });
});

describe('a delivery that fails (services)', () => {
  // No transports: every send fails, as when a gateway is down.
  const rig = useServices({ rateLimits: OPEN_LIMITS as Config['rateLimits'] });

  it('answers as always, and records the failure without the code', async () => {
    const user = await rig.buildUser();
    const answer = await rig.services.emailSignIn.request({
      email: user.email,
      mode: 'code',
      browserBinding: generateToken(),
      locale: 'en',
      origin: ORIGIN,
    });
    expect(answer.challengeId).toEqual(expect.any(String));
    await rig.services.codeDelivery.settled();
    const events = await rig.storage.audit.forSubject(user.id);
    const failed = events.find((e) => e.action === 'code.delivery_failed');
    expect(failed?.details).toEqual(
      expect.objectContaining({ kind: 'sign_in_code', channel: 'email', transport: 'none' }),
    );
    expect(JSON.stringify(failed?.details)).not.toMatch(/\d{6}/);
  });
});
