import type { Config } from '../config/schema.js';
import { NotFoundError, PolicyRefusedError } from '../errors/domain-errors.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import type { RateLimits } from '../security/rate-limits.js';
import type { CodeChannel, CodePurpose } from '../storage/one-time-codes.repository.js';
import type { Storage } from '../storage/storage.js';
import type { DefaultFactorMethod, SecondFactorState } from '../storage/phones.repository.js';
import { factorSummaryOf, type FactorSummary } from '../accounts/second-factors.js';
import { checkCode } from './code-check.js';
import { emailSecondFactorAllowed, secondsUntilResend, smsAllowed } from './code-policy.js';
import type { CodeSender, MessageKind } from './code-sender.js';
import type { SentChallenge } from './email-sign-in.js';
import { countryOf, parsePhoneNumber } from './phone-number.js';
import { generateCode, type CodeDigests } from './secrets.js';

export interface CodeFactorSummary {
  /** Codes by email turned on as a second factor. */
  email: boolean;
  /** A verified phone number takes SMS codes as a second factor. */
  sms: boolean;
  phone: { phoneNumber: string; verified: boolean } | null;
  /**
   * The second factor the user chose to be asked for first, while they still have it (a choice
   * whose factor was removed reads as null). The sign-in step offers it first when this sign-in
   * may use it (docs/factors.md, "The default second factor").
   */
  defaultFactor: DefaultFactorMethod | null;
}

/**
 * amr (RFC 8176) of a second factor by code: `otp` for an emailed code, `sms` for a texted one
 * (docs/decisions.md). Both reach the mfa level, never the phishing-resistant one.
 */
type CodeFactorAmr = ['otp'] | ['sms'];

export type CodeFactorOutcome =
  | { result: 'accepted'; amr: CodeFactorAmr; channel: CodeChannel }
  | { result: 'invalid'; attemptsLeft: number }
  | { result: 'expired' }
  | { result: 'exhausted' };

/** Whether the user has `method` now: SMS only with a verified number, the others as enrolled. */
function hasFactor(state: SecondFactorState, method: DefaultFactorMethod): boolean {
  if (method === 'email') return state.channels.includes('email');
  if (method === 'sms') return state.channels.includes('sms') && state.phone?.verified === true;
  return state[method] > 0;
}

function codeFactorSummaryOf(state: SecondFactorState): CodeFactorSummary {
  const { phone, defaultFactor } = state;
  return {
    email: hasFactor(state, 'email'),
    sms: hasFactor(state, 'sms'),
    phone: phone ? { phoneNumber: phone.phoneNumber, verified: phone.verified } : null,
    defaultFactor: defaultFactor && hasFactor(state, defaultFactor) ? defaultFactor : null,
  };
}

const PHONE_DATA = 'phoneNumber';
/** When an enrolment code was sent, on the service's clock (epoch ms): its resend cooldown runs from there. */
const SENT_AT_DATA = 'sentAt';

/**
 * Email and SMS codes as second factors, and the phone number they go to (issue 18,
 * docs/factors.md). SMS is a restricted authenticator (NIST SP 800-63B §5.1.3.3): the
 * deployment or a client may turn it off, and it is only ever an mfa-level factor. Every send
 * passes the abuse limits (per IP, per account, per number, the deployment's daily cap, the
 * resend cooldown) and, for SMS, the country allow-list, before anything is stored or sent.
 */
export function createCodeFactors(deps: {
  config: Pick<Config, 'codes' | 'sms' | 'rateLimits'>;
  storage: Pick<Storage, 'users' | 'oneTimeCodes' | 'phones' | 'transaction'>;
  digests: CodeDigests;
  sender: CodeSender;
  limits: RateLimits;
  audit: AuditLog;
  clock: () => number;
}) {
  const { config, storage, digests, audit, limits } = deps;
  const { codes } = config;
  const cooldown = config.rateLimits.codeResend.durationSeconds;

  const refuseSms = () =>
    new PolicyRefusedError('phone_number', 'sms_off', 'SMS codes are turned off', {
      key: 'codes.errors.smsOff',
      params: {},
    });

  /** The limits of one SMS to `e164` for `userId`; the country is checked again (the list may have changed). */
  async function smsAllowedTo(e164: string, userId: string, origin: RequestOrigin): Promise<void> {
    const country = countryOf(e164);
    if (!country || !config.sms.allowedCountries.includes(country)) {
      throw new PolicyRefusedError('phone_number', 'country', `numbers of ${country ?? '??'} are not accepted here`, {
        key: 'codes.errors.country',
        params: { country: country ?? '??' },
      });
    }
    await limits.take(origin, 'codeResend', `sms:${userId}`);
    await limits.take(origin, 'smsNumber', e164);
    await limits.take(origin, 'smsAccount', userId);
    await limits.take(origin, 'codeIp', origin.ip ?? '');
    await limits.take(origin, 'smsDaily', 'deployment');
  }

  /** Stores a new code (voiding the user's earlier one of the purpose) and hands it to the sender. */
  async function send(input: {
    userId: string;
    purpose: CodePurpose;
    channel: CodeChannel;
    kind: MessageKind;
    to: string;
    data?: Record<string, string>;
    locale: string;
    origin: RequestOrigin;
  }): Promise<SentChallenge> {
    const code = generateCode(codes.codeLength);
    const row = await storage.oneTimeCodes.replace({
      purpose: input.purpose,
      channel: input.channel,
      subject: input.userId,
      userId: input.userId,
      codeDigest: digests.code(code),
      linkDigest: null,
      browserDigest: null,
      data: input.data ?? {},
      expiresAt: new Date(deps.clock() + codes.codeTtlSeconds * 1000),
    });
    await audit.record(
      'code.sent',
      { subjectId: input.userId, details: { kind: input.kind, channel: input.channel } },
      input.origin,
    );
    deps.sender.deliver({
      channel: input.channel,
      kind: input.kind,
      to: input.to,
      code,
      validMinutes: Math.ceil(codes.codeTtlSeconds / 60),
      locale: input.locale,
      userId: input.userId,
    });
    return { challengeId: row.id, resendAfterSeconds: cooldown };
  }

  /** The code factors the user turned on, less what the deployment or this client turned off. */
  const availableOf = (
    summary: CodeFactorSummary,
    clientMetadata?: Readonly<Record<string, unknown>>,
  ): CodeChannel[] => [
    ...(summary.email && emailSecondFactorAllowed(config) ? (['email'] as const) : []),
    ...(summary.sms && smsAllowed(config, clientMetadata) ? (['sms'] as const) : []),
  ];

  const check = (userId: string, purpose: CodePurpose, challengeId: string, code: string) =>
    checkCode(storage.oneTimeCodes, digests, {
      challengeId,
      code,
      expect: { purpose, userId },
      maxAttempts: codes.maxAttempts,
      now: new Date(deps.clock()),
    });

  const userOf = async (userId: string) => {
    const user = await storage.users.findById(userId);
    if (!user || user.disabledAt) throw new NotFoundError('user');
    return user;
  };

  return {
    async summary(userId: string): Promise<CodeFactorSummary> {
      return codeFactorSummaryOf(await storage.phones.secondFactorState(userId));
    },

    /**
     * What the second step of a sign-in to this client decides on, from one statement: the
     * app, key and recovery-code factors, the code factors, and those of them this sign-in may
     * offer (as `available` gives them).
     */
    async signInFactors(
      userId: string,
      clientMetadata?: Readonly<Record<string, unknown>>,
    ): Promise<{ factors: FactorSummary; codes: CodeFactorSummary; available: CodeChannel[] }> {
      const state = await storage.phones.secondFactorState(userId);
      const codes = codeFactorSummaryOf(state);
      return { factors: factorSummaryOf(state), codes, available: availableOf(codes, clientMetadata) };
    },

    /**
     * Chooses the second factor the sign-in asks for first, or forgets the choice (null). Only
     * a factor the user has may be chosen; the choice is audited like any factor change.
     */
    async setDefaultFactor(userId: string, method: DefaultFactorMethod | null, origin: RequestOrigin): Promise<void> {
      await userOf(userId);
      if (method !== null) {
        if (!hasFactor(await storage.phones.secondFactorState(userId), method)) {
          throw new PolicyRefusedError('default_factor', 'not_enrolled', `${method} is not one of your factors`, {
            key: 'codes.errors.defaultNotEnrolled',
            params: {},
          });
        }
      }
      await storage.transaction(async (tx) => {
        if (await tx.phones.setDefaultFactor(userId, method)) {
          await audit.within(tx).record('mfa.default.changed', { subjectId: userId, details: { method } }, origin);
        }
      });
    },

    /**
     * The code factors a sign-in to this client may offer the user: those they turned on, less
     * what the deployment or the client turned off.
     */
    async available(userId: string, clientMetadata?: Readonly<Record<string, unknown>>): Promise<CodeChannel[]> {
      return availableOf(await this.summary(userId), clientMetadata);
    },

    /** Whether a sign-in to this client may use SMS codes at all (sms.enabled and the client's gatehouse_sms). */
    smsAllowedFor: (clientMetadata?: Readonly<Record<string, unknown>>): boolean => smsAllowed(config, clientMetadata),

    /** Turns emailed codes on as a second factor (the address is the account's, already proven by sign-up or link). */
    async enableEmail(userId: string, origin: RequestOrigin): Promise<void> {
      if (!emailSecondFactorAllowed(config)) {
        throw new PolicyRefusedError('channel', 'email_second_factor_off', 'email codes are turned off', {
          key: 'codes.errors.emailSecondFactorOff',
          params: {},
        });
      }
      await userOf(userId);
      await storage.transaction(async (tx) => {
        await tx.phones.enableFactor(userId, 'email');
        await audit.within(tx).record('mfa.email.enabled', { subjectId: userId }, origin);
      });
    },

    async disableEmail(userId: string, origin: RequestOrigin): Promise<void> {
      await storage.transaction(async (tx) => {
        if (await tx.phones.disableFactor(userId, 'email')) {
          await tx.oneTimeCodes.revoke('second_factor', userId);
          await audit.within(tx).record('mfa.email.removed', { subjectId: userId }, origin);
        }
      });
    },

    /**
     * Sends a code to a number to prove it is the user's. The number is parsed to E.164 and
     * must be in an allowed country; nothing is stored for the user until the code comes back.
     */
    async startPhoneEnrolment(input: {
      userId: string;
      phoneNumber: string;
      /** The region a number typed without +country is read in (from the page's language or a picker). */
      defaultCountry?: string;
      locale: string;
      origin: RequestOrigin;
    }): Promise<SentChallenge & { phoneNumber: string }> {
      if (!config.sms.enabled) throw refuseSms();
      const { e164 } = parsePhoneNumber(input.phoneNumber, config.sms.allowedCountries, input.defaultCountry);
      await userOf(input.userId);
      await smsAllowedTo(e164, input.userId, input.origin);
      const sent = await send({
        userId: input.userId,
        purpose: 'phone_verification',
        channel: 'sms',
        kind: 'phone_verification',
        to: e164,
        data: { [PHONE_DATA]: e164, [SENT_AT_DATA]: String(deps.clock()) },
        locale: input.locale,
        origin: input.origin,
      });
      return { ...sent, phoneNumber: e164 };
    },

    /**
     * Seconds until the user may ask for another enrolment code (the visible cooldown of
     * /account's code page, on the service's clock, from the user's newest enrolment code,
     * whatever the form says); 0 once they may. The limiter `codeResend` still guards every send
     * (startPhoneEnrolment) across replicas.
     */
    async enrolmentResendWait(userId: string): Promise<number> {
      const row = await storage.oneTimeCodes.current('phone_verification', userId);
      const sentAt = Number(row?.data[SENT_AT_DATA]);
      return Number.isFinite(sentAt) ? secondsUntilResend(sentAt, cooldown, deps.clock()) : 0;
    },

    /** The code from the enrolment SMS: the number becomes the user's, verified, and SMS codes their second factor. */
    async confirmPhoneEnrolment(input: {
      userId: string;
      challengeId: string;
      code: string;
      origin: RequestOrigin;
    }): Promise<CodeFactorOutcome> {
      const verdict = await check(input.userId, 'phone_verification', input.challengeId, input.code);
      if (verdict.result !== 'accepted') return verdict;
      const phoneNumber = verdict.row.data[PHONE_DATA];
      if (!phoneNumber) return { result: 'expired' };
      await storage.transaction(async (tx) => {
        await tx.phones.set(input.userId, phoneNumber, true);
        await tx.phones.enableFactor(input.userId, 'sms');
        await audit.within(tx).record('mfa.sms.enrolled', { subjectId: input.userId }, input.origin);
      });
      return { result: 'accepted', amr: ['sms'], channel: 'sms' };
    },

    /** Removes the number and with it the SMS factor (the user on /account, or an admin). */
    async removePhone(userId: string, origin: RequestOrigin): Promise<void> {
      await storage.transaction(async (tx) => {
        const removed = await tx.phones.remove(userId);
        const factor = await tx.phones.disableFactor(userId, 'sms');
        await tx.oneTimeCodes.revoke('second_factor', userId);
        if (removed || factor) await audit.within(tx).record('mfa.sms.removed', { subjectId: userId }, origin);
      });
    },

    /** Sends a second-factor code by the channel the user chose; refused when that channel is not available to them here. */
    async sendCode(input: {
      userId: string;
      channel: CodeChannel;
      locale: string;
      clientMetadata?: Readonly<Record<string, unknown>>;
      origin: RequestOrigin;
    }): Promise<SentChallenge> {
      const user = await userOf(input.userId);
      const channels = await this.available(input.userId, input.clientMetadata);
      if (!channels.includes(input.channel)) {
        if (input.channel === 'sms') throw refuseSms();
        throw new PolicyRefusedError('channel', 'not_enrolled', `${input.channel} codes are not available`);
      }
      let to = user.email;
      if (input.channel === 'sms') {
        const phone = await storage.phones.find(input.userId);
        if (!phone?.verified) throw refuseSms();
        to = phone.phoneNumber;
        await smsAllowedTo(to, input.userId, input.origin);
      } else {
        await limits.take(input.origin, 'codeResend', `email:${input.userId}`);
        await limits.take(input.origin, 'codeAddress', `second_factor:${input.userId}`);
        await limits.take(input.origin, 'codeIp', input.origin.ip ?? '');
      }
      return send({
        userId: input.userId,
        purpose: 'second_factor',
        channel: input.channel,
        kind: 'second_factor',
        to,
        locale: input.locale,
        origin: input.origin,
      });
    },

    /** Checks a second-factor code; `accepted` carries the amr to record (`otp` by email, `sms` by SMS). */
    async verifyCode(input: {
      userId: string;
      challengeId: string;
      code: string;
      origin: RequestOrigin;
    }): Promise<CodeFactorOutcome> {
      const verdict = await check(input.userId, 'second_factor', input.challengeId, input.code);
      if (verdict.result !== 'accepted') {
        await audit.record(
          'signin.mfa.failed',
          { subjectId: input.userId, details: { method: 'code', result: verdict.result } },
          input.origin,
        );
        return verdict;
      }
      const channel = verdict.row.channel;
      await audit.record(
        'signin.mfa.succeeded',
        { subjectId: input.userId, details: { method: channel } },
        input.origin,
      );
      return { result: 'accepted', amr: channel === 'sms' ? ['sms'] : ['otp'], channel };
    },

    /** The `phone` scope's claims (OIDC Core §5.4): present only for a number the user has. */
    async phoneClaims(userId: string): Promise<{ phone_number?: string; phone_number_verified?: boolean }> {
      const phone = await storage.phones.find(userId);
      return phone ? { phone_number: phone.phoneNumber, phone_number_verified: phone.verified } : {};
    },
  };
}
