import type { Config } from '../config/schema.js';
import { PolicyRefusedError } from '../errors/domain-errors.js';
import { checkEmail } from '../accounts/user-fields.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import type { RateLimits } from '../security/rate-limits.js';
import type { Storage } from '../storage/storage.js';
import { checkCode } from './code-check.js';
import { emailSignInAllowed } from './code-policy.js';
import type { CodeSender } from './code-sender.js';
import { generateCode, generateToken, sameDigest, type CodeDigests } from './secrets.js';

/** Digits of the code a sign-in link shows in a browser other than the one that asked. */
const HANDOFF_CODE_LENGTH = 6;

interface EmailSignInRequest {
  /** As typed; the same answer whether or not it has an account. */
  email: string;
  /** A code to type, or a link to open. */
  mode: 'code' | 'link';
  /**
   * The asking browser's binding value: a random value the page keeps in a cookie of that
   * browser (generateToken). Only its digest is stored; the code or link works with it alone.
   */
  browserBinding: string;
  /** The sign-in this is for, given back when the link is opened in the same browser. */
  interactionUid?: string;
  locale: string;
  /** The client being signed in to: its gatehouse_email_sign_in may turn the method off. */
  clientMetadata?: Readonly<Record<string, unknown>>;
  origin: RequestOrigin;
}

/** What the page keeps to check the code with (and shows: "we sent a code if the address has an account"). */
export interface SentChallenge {
  challengeId: string;
  /** The resend cooldown: when the page may offer to send again. */
  resendAfterSeconds: number;
}

/** A signed-in result: the user, and amr `otp` (RFC 8176: a one-time value sent out of band). */
interface EmailSignedIn {
  userId: string;
  amr: ['otp'];
  interactionUid?: string;
}

type EmailCodeOutcome =
  | ({ result: 'accepted' } & EmailSignedIn)
  | { result: 'invalid'; attemptsLeft: number }
  | { result: 'expired' }
  | { result: 'exhausted' };

/**
 * Opening a sign-in link. `signed_in`: the browser that asked opened it (its binding matched).
 * `other_browser`: another browser or device opened it; it is signed in to nothing and shows
 * `code`, which the person types in the browser that asked (verifyCode with that browser's
 * binding and challenge). `invalid`: unknown, used, voided by a newer link, or expired.
 */
type LinkOutcome =
  | ({ result: 'signed_in' } & EmailSignedIn)
  | { result: 'other_browser'; code: string; validMinutes: number }
  | { result: 'invalid' };

export interface EmailSignIn {
  request(input: EmailSignInRequest): Promise<SentChallenge>;
  verifyCode(input: {
    challengeId: string;
    code: string;
    browserBinding: string;
    origin: RequestOrigin;
  }): Promise<EmailCodeOutcome>;
  openLink(input: { token: string; browserBinding: string; origin: RequestOrigin }): Promise<LinkOutcome>;
}

/**
 * Sign-in without a password by a code or link sent to the account's address (issue 18,
 * docs/factors.md "Email sign-in"). Enumeration-safe: an address with no (enabled) account
 * gets the same limits, the same stored row and the same answer, and no message (see
 * docs/decisions.md); its code can never be accepted. Links are bound to the asking browser:
 * a link alone never signs a foreign browser in (login CSRF), and never signs the asking
 * browser in unseen: the foreign browser only shows a code for the person to type.
 */
export function createEmailSignIn(deps: {
  config: Pick<Config, 'codes' | 'rateLimits'>;
  storage: Pick<Storage, 'users' | 'oneTimeCodes' | 'transaction'>;
  digests: CodeDigests;
  sender: CodeSender;
  limits: RateLimits;
  audit: AuditLog;
  clock: () => number;
}): EmailSignIn {
  const { config, storage, digests, audit } = deps;
  const { codes } = config;
  const minutes = (seconds: number) => Math.ceil(seconds / 60);

  const signedIn = async (
    row: { userId: string | null; data: Record<string, string> },
    method: 'email_code' | 'magic_link',
    origin: RequestOrigin,
  ): Promise<EmailSignedIn | undefined> => {
    const user = row.userId ? await storage.users.findById(row.userId) : null;
    // Disabled after the code was sent: refused like a wrong code would be.
    if (!user || user.disabledAt) return undefined;
    await audit.record('signin.email_code.succeeded', { subjectId: user.id, details: { method } }, origin);
    return {
      userId: user.id,
      amr: ['otp'],
      ...(row.data.interactionUid ? { interactionUid: row.data.interactionUid } : {}),
    };
  };

  return {
    async request(input) {
      if (!emailSignInAllowed(config, input.clientMetadata)) {
        throw new PolicyRefusedError('email', 'email_sign_in_off', 'email sign-in is turned off', {
          key: 'codes.errors.emailSignInOff',
          params: {},
        });
      }
      const email = checkEmail(input.email).toLowerCase();
      // The cooldown first: a resend too soon must not use up the hour's budget.
      await deps.limits.take(input.origin, 'codeResend', `sign_in:${email}`);
      await deps.limits.take(input.origin, 'codeAddress', `sign_in:${email}`);
      await deps.limits.take(input.origin, 'codeIp', input.origin.ip ?? '');
      const found = await storage.users.findByEmail(email);
      const user = found && !found.disabledAt ? found : null;
      const code = generateCode(input.mode === 'code' ? codes.codeLength : HANDOFF_CODE_LENGTH);
      const token = generateToken();
      const ttl = input.mode === 'code' ? codes.codeTtlSeconds : codes.linkTtlSeconds;
      const row = await storage.oneTimeCodes.replace({
        purpose: 'sign_in',
        channel: 'email',
        subject: digests.subject(email),
        userId: user?.id ?? null,
        // A link has no code until it is opened in another browser (handOff).
        codeDigest: input.mode === 'code' ? digests.code(code) : null,
        linkDigest: input.mode === 'link' ? digests.link(token) : null,
        browserDigest: digests.browser(input.browserBinding),
        data: input.interactionUid ? { interactionUid: input.interactionUid } : {},
        expiresAt: new Date(deps.clock() + ttl * 1000),
      });
      await audit.record(
        'code.sent',
        { subjectId: user?.id ?? null, details: { kind: `sign_in_${input.mode}`, channel: 'email', known: !!user } },
        input.origin,
      );
      if (user) {
        deps.sender.deliver({
          channel: 'email',
          kind: input.mode === 'code' ? 'sign_in_code' : 'sign_in_link',
          to: user.email,
          ...(input.mode === 'code' ? { code } : { linkToken: token }),
          validMinutes: minutes(ttl),
          locale: input.locale,
          userId: user.id,
        });
      }
      return { challengeId: row.id, resendAfterSeconds: config.rateLimits.codeResend.durationSeconds };
    },

    async verifyCode(input) {
      const verdict = await checkCode(storage.oneTimeCodes, digests, {
        challengeId: input.challengeId,
        code: input.code,
        expect: { purpose: 'sign_in', browserDigest: digests.browser(input.browserBinding) },
        maxAttempts: codes.maxAttempts,
        now: new Date(deps.clock()),
      });
      if (verdict.result === 'accepted') {
        const method = verdict.row.data.handedOff ? 'magic_link' : 'email_code';
        const done = await signedIn(verdict.row, method, input.origin);
        if (done) return { result: 'accepted', ...done };
        return { result: 'expired' };
      }
      await audit.record('signin.email_code.failed', { details: { result: verdict.result } }, input.origin);
      return verdict;
    },

    async openLink(input) {
      const now = new Date(deps.clock());
      const linkDigest = digests.link(input.token);
      const row = await storage.oneTimeCodes.findByLink(linkDigest);
      if (!row || row.purpose !== 'sign_in' || row.consumedAt || row.expiresAt <= now) {
        await audit.record('signin.email_code.failed', { details: { result: 'link_invalid' } }, input.origin);
        return { result: 'invalid' };
      }
      if (sameDigest(row.browserDigest, digests.browser(input.browserBinding))) {
        const used = await storage.oneTimeCodes.consumeLink(linkDigest, now);
        const done = used ? await signedIn(used, 'magic_link', input.origin) : undefined;
        return done ? { result: 'signed_in', ...done } : { result: 'invalid' };
      }
      const code = generateCode(HANDOFF_CODE_LENGTH);
      const handed = await storage.oneTimeCodes.handOff(linkDigest, digests.code(code), now);
      if (!handed) return { result: 'invalid' };
      await audit.record(
        'signin.link.handed_off',
        { subjectId: handed.userId, details: { reason: 'other_browser' } },
        input.origin,
      );
      return {
        result: 'other_browser',
        code,
        validMinutes: minutes((handed.expiresAt.getTime() - now.getTime()) / 1000),
      };
    },
  };
}
