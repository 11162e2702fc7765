import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { createCodeDigests, generateCode, generateToken, sameDigest } from '../../src/codes/secrets.js';
import { parsePhoneNumber } from '../../src/codes/phone-number.js';
import {
  EMAIL_SIGN_IN_FIELD,
  SMS_FIELD,
  emailSignInAllowed,
  secondsUntilResend,
  smsAllowed,
} from '../../src/codes/code-policy.js';
import { describeAuthentication, meets } from '../../src/accounts/authentication-level.js';
import { smsLength, smsText } from '../../src/delivery/sms-text.js';
import { webhookSignature, SIGNATURE_HEADER } from '../../src/delivery/webhook.js';
import { createCodeDelivery, maskRecipient } from '../../src/delivery/code-delivery.js';
import { DeliveryError, type Transport } from '../../src/delivery/message.js';
import { InvalidInputError, PolicyRefusedError } from '../../src/errors/domain-errors.js';
import { loadCatalogue } from '../../src/i18n/catalogue.js';
import { createTranslators } from '../../src/i18n/translator.js';
import { negotiateLocale, SUPPORTED_LOCALES } from '../../src/i18n/locale.js';
import { createLogger } from '../../src/http/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { loadConfig } from '../../src/config/load.js';
import type { AuditAction, AuditEventInput, AuditLog } from '../../src/security/audit.js';
import { configProblems } from '../helpers/config-problems.js';

const ALLOWED = ['DE', 'AT', 'US', 'GB'];

describe('codes: generation and digests', () => {
  it('makes codes of the asked length of digits, different each time', () => {
    for (const length of [6, 7, 8]) {
      const codes = Array.from({ length: 50 }, () => generateCode(length));
      for (const code of codes) expect(code).toMatch(new RegExp(`^\\d{${length}}$`));
      expect(new Set(codes).size).toBeGreaterThan(45);
    }
    expect(generateToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('digests under the key, per kind of value, ignoring the spaces and dashes people type', () => {
    const digests = createCodeDigests(Buffer.alloc(32, 1));
    const other = createCodeDigests(Buffer.alloc(32, 2));
    expect(digests.code('123456')).toBe(digests.code('123 456'));
    expect(digests.code('123456')).toBe(digests.code('123-456'));
    expect(digests.code('123456')).not.toBe(digests.code('123457'));
    expect(digests.code('123456')).not.toBe(other.code('123456'));
    expect(digests.code('abc')).not.toBe(digests.link('abc'));
    expect(digests.link('abc')).not.toBe(digests.browser('abc'));
    expect(digests.subject('A@Example.test ')).toBe(digests.subject('a@example.test'));
    // The digest is not the code, nor its unkeyed hash.
    expect(digests.code('123456')).not.toContain('123456');
  });

  it('compares digests by value and refuses missing ones', () => {
    const digests = createCodeDigests(Buffer.alloc(32, 1));
    expect(sameDigest(digests.code('1'), digests.code('1'))).toBe(true);
    expect(sameDigest(digests.code('1'), digests.code('2'))).toBe(false);
    expect(sameDigest(digests.code('1'), 'short')).toBe(false);
    expect(sameDigest(null, null)).toBe(false);
  });
});

describe('codes: phone numbers (E.164 with libphonenumber-js)', () => {
  it('reads international and national numbers into E.164', () => {
    expect(parsePhoneNumber('+49 170 1234567', ALLOWED)).toEqual({ e164: '+491701234567', country: 'DE' });
    expect(parsePhoneNumber('0170 1234567', ALLOWED, 'DE')).toEqual({ e164: '+491701234567', country: 'DE' });
    expect(parsePhoneNumber('(202) 555-0143', ALLOWED, 'US').e164).toBe('+12025550143');
  });

  it('refuses what is not a valid number, and numbers of countries not allowed', () => {
    for (const bad of ['', 'call me', '+49 12', '0170 1234567', '+999 1234567', `+49${'1'.repeat(40)}`]) {
      expect(() => parsePhoneNumber(bad, ALLOWED)).toThrow(InvalidInputError);
    }
    expect(() => parsePhoneNumber('+33 6 12 34 56 78', ALLOWED)).toThrow(PolicyRefusedError);
  });
});

describe('codes: SMS texts', () => {
  const catalogue = loadCatalogue();
  const translators = createTranslators(catalogue);
  const productName = loadConfig({}).branding.productName;

  it.each(SUPPORTED_LOCALES)('fit one segment in %s with an 8-digit code, ending in the WebOTP line', (locale) => {
    for (const kind of ['second_factor', 'phone_verification', 'sign_in_code'] as const) {
      const text = smsText({ kind, code: '12345678', validMinutes: 60 }, translators(locale), {
        host: 'login.id.example-company.com',
        productName,
      });
      expect(smsLength(text).segments).toBe(1);
      expect(text).not.toBe(translators(locale).t('codes.sms.short', { code: '12345678', host: 'x' }));
      expect(text.endsWith('\n\n@login.id.example-company.com #12345678')).toBe(true);
    }
  });

  it('falls back to the short text when a long product name would need a second segment', () => {
    const text = smsText({ kind: 'second_factor', code: '123456', validMinutes: 10 }, translators('de'), {
      host: 'sign-in.identity.example-company.com',
      productName: 'The Very Long Product Name of a Company That Likes Long Name',
    });
    expect(text).toBe('123456 ist Ihr Code.\n\n@sign-in.identity.example-company.com #123456');
  });

  it('counts GSM-7 septets and UCS-2 units', () => {
    expect(smsLength('a'.repeat(160))).toEqual({ encoding: 'gsm7', units: 160, segments: 1 });
    expect(smsLength(`${'a'.repeat(159)}€`)).toEqual({ encoding: 'gsm7', units: 161, segments: 2 });
    expect(smsLength('Grüße')).toEqual({ encoding: 'gsm7', units: 5, segments: 1 });
    expect(smsLength(`${'a'.repeat(70)}ł`)).toEqual({ encoding: 'ucs2', units: 71, segments: 2 });
  });
});

describe('codes: the webhook signature', () => {
  it('is HMAC-SHA256 over "<timestamp>.<body>" in hex, with the timestamp', () => {
    const body = '{"to":"+491701234567"}';
    const expected = createHmac('sha256', 'secret').update(`1700000000.${body}`).digest('hex');
    expect(webhookSignature('secret', 1_700_000_000, body)).toBe(`t=1700000000,v1=${expected}`);
    expect(webhookSignature('secret', 1_700_000_001, body)).not.toBe(webhookSignature('secret', 1_700_000_000, body));
    expect(webhookSignature('other', 1_700_000_000, body)).not.toBe(webhookSignature('secret', 1_700_000_000, body));
    expect(SIGNATURE_HEADER).toBe('x-gatehouse-signature');
  });
});

describe('codes: amr and level', () => {
  it('records otp for an emailed code or link and sms for SMS, never phishing-resistant', () => {
    expect(describeAuthentication('email_code')).toEqual({ amr: ['otp'], level: 'password' });
    expect(describeAuthentication('password', 'email_code')).toEqual({ amr: ['pwd', 'otp', 'mfa'], level: 'mfa' });
    const sms = describeAuthentication('password', 'sms');
    expect(sms).toEqual({ amr: ['pwd', 'sms', 'mfa'], level: 'mfa' });
    expect(meets(sms.level, 'phishingResistant')).toBe(false);
    expect(meets(describeAuthentication('email_code', 'sms').level, 'phishingResistant')).toBe(false);
  });
});

describe('codes: switches and configuration', () => {
  const config = loadConfig({});

  it('turns methods off globally or for one client (only an explicit false)', () => {
    expect([SMS_FIELD, EMAIL_SIGN_IN_FIELD]).toEqual(['gatehouse_sms', 'gatehouse_email_sign_in']);
    expect(smsAllowed(config)).toBe(true);
    expect(smsAllowed(config, { gatehouse_sms: false })).toBe(false);
    expect(smsAllowed(config, { gatehouse_sms: 'no' })).toBe(true);
    expect(smsAllowed({ sms: { ...config.sms, enabled: false } }, { gatehouse_sms: true })).toBe(false);
    expect(emailSignInAllowed(config, { gatehouse_email_sign_in: false })).toBe(false);
    expect(emailSignInAllowed({ codes: { ...config.codes, emailSignIn: false } })).toBe(false);
  });

  it('counts the resend cooldown in whole seconds up, to 0 once it has passed', () => {
    const sentAt = 1_000_000;
    expect(secondsUntilResend(sentAt, 30, sentAt)).toBe(30);
    expect(secondsUntilResend(sentAt, 30, sentAt + 18_001)).toBe(12);
    expect(secondsUntilResend(sentAt, 30, sentAt + 29_999)).toBe(1);
    expect(secondsUntilResend(sentAt, 30, sentAt + 30_000)).toBe(0);
    expect(secondsUntilResend(sentAt, 30, sentAt + 90_000)).toBe(0);
  });

  it('defaults to the outbox and 6-digit codes valid 10 minutes with 5 attempts', () => {
    expect(config.sms.transport).toBe('outbox');
    expect(config.codes).toEqual(
      expect.objectContaining({ codeLength: 6, codeTtlSeconds: 600, linkTtlSeconds: 600, maxAttempts: 5 }),
    );
  });

  it('reads the gateway secrets from the environment', () => {
    const env = loadConfig({
      SMS_TRANSPORT: 'twilio',
      TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'token',
      TWILIO_FROM: '+15005550006',
    });
    expect(env.sms.transport).toBe('twilio');
    expect(env.sms.twilio.authToken).toBe('token');
  });

  it('refuses a webhook or Twilio transport without its settings, and bad values, one line per key', () => {
    expect(configProblems({}, { sms: { transport: 'webhook' } })).toEqual([
      expect.stringMatching(/^sms\.webhook\.url: /),
      expect.stringMatching(/^sms\.webhook\.secret: /),
    ]);
    expect(configProblems({}, { sms: { transport: 'twilio' } })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^sms\.twilio\.accountSid: /)]),
    );
    const problems = configProblems(
      {},
      {
        codes: { codeLength: 4, maxAttempts: 0 },
        sms: {
          allowedCountries: ['Germany'],
          webhook: {
            url: 'http://gateway.example.com/sms',
            secret: 'short',
            timeoutMs: 5000,
            attempts: 3,
            initialDelayMs: 0,
          },
        },
      },
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^codes\.codeLength: /),
        expect.stringMatching(/^codes\.maxAttempts: /),
        expect.stringMatching(/^sms\.allowedCountries\.0: /),
        expect.stringMatching(/^sms\.webhook\.url: .*https/),
        expect.stringMatching(/^sms\.webhook\.secret: /),
      ]),
    );
  });
});

describe('codes: a delivery that fails', () => {
  it('is logged without the code, counted and audited; the caller is not told', async () => {
    const lines: string[] = [];
    const log = createLogger(
      'info',
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const metrics = createMetrics();
    const events: Array<[AuditAction, AuditEventInput]> = [];
    const audit: AuditLog = {
      record: async (action, event) => void events.push([action, event]),
      within: () => audit,
    };
    const failing: Transport = {
      name: 'webhook',
      send: () => Promise.reject(new DeliveryError('gateway answered 503 after 3 attempt(s)', 503)),
    };
    const translators = createTranslators(loadCatalogue());
    const delivery = createCodeDelivery({
      email: failing,
      sms: failing,
      translatorFor: (locale) => translators(negotiateLocale({ uiLocales: locale })),
      issuer: 'https://id.example.com',
      productName: 'Gatehouse',
      log,
      metrics,
      audit,
    });
    expect(
      delivery.deliver({
        channel: 'sms',
        kind: 'second_factor',
        to: '+491701234567',
        code: '987654',
        validMinutes: 10,
        locale: 'en',
        userId: 'u-1',
      }),
    ).toBeUndefined();
    await delivery.settled();
    expect(lines.join('')).toContain('code could not be delivered');
    expect(lines.join('')).not.toContain('987654');
    expect(lines.join('')).not.toContain('+491701234567');
    expect(events).toEqual([
      [
        'code.delivery_failed',
        {
          subjectId: 'u-1',
          details: {
            kind: 'second_factor',
            channel: 'sms',
            transport: 'webhook',
            error: 'gateway answered 503 after 3 attempt(s)',
          },
        },
      ],
    ]);
    const counted = await metrics.codeDeliveries.get();
    expect(counted.values).toEqual([{ labels: { channel: 'sms', transport: 'webhook', result: 'failed' }, value: 1 }]);
    expect(maskRecipient('+491701234567')).toBe('+49********67');
    expect(maskRecipient('someone@example.com')).toBe('s***@example.com');
  });
});
