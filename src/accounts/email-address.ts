import type { UserRow } from '../storage/entities/user.entity.js';
import type { AccountLinkPurpose } from '../storage/entities/account-link.entity.js';
import type { Storage } from '../storage/storage.js';
import { normalizeEmail } from '../storage/users.repository.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import { accountLinks, NOBODY } from './account-links.js';
import { isAllowedDomain, type SignUpSettings } from './sign-up-settings.js';
import { checkEmail } from './user-fields.js';
import { ConflictError, PolicyRefusedError } from '../errors/domain-errors.js';

type LinkRepositories = Parameters<typeof accountLinks.issue>[0];

export type EmailVerification =
  { ok: true; user: UserRow; data: Record<string, string> } | { ok: false; reason: 'invalid-link' };

export type EmailChangeRequest =
  /** A link for the new address. */
  | { ok: true; kind: 'link'; user: UserRow; newEmail: string; token: string }
  /**
   * Another account has the address: nothing is issued, and its owner gets a notice instead. The
   * caller answers exactly as for 'link' (issue 14, finding 6: no telling who has an account).
   */
  | { ok: true; kind: 'taken'; user: UserRow; newEmail: string; owner: UserRow }
  /** The account's own address (or the account is gone): nothing to change. */
  | { ok: false; reason: 'address-unavailable' };

export type EmailChange =
  { ok: true; user: UserRow; previousEmail: string } | { ok: false; reason: 'invalid-link' | 'address-unavailable' };

/**
 * Proof that a user reads the mail of an address: verifying the address an account has, and
 * moving an account to a new address, which changes only when the link sent there is used.
 */
export function createEmailAddressService(deps: {
  storage: Pick<Storage, 'users' | 'accountLinks' | 'transaction'>;
  audit: AuditLog;
  settings: SignUpSettings;
}) {
  const { storage, audit, settings } = deps;
  const ttlSeconds = settings.verificationLinkTtlSeconds;

  /** A link for the account's current address; `data.email` ties it to that address. */
  const issueVerification = (
    tx: LinkRepositories,
    user: Pick<UserRow, 'id' | 'emailNormalized'>,
    extra: Record<string, string> = {},
  ): Promise<string> =>
    accountLinks.issue(tx, {
      userId: user.id,
      purpose: 'verify-email',
      ttlSeconds,
      data: { ...extra, email: user.emailNormalized },
    });

  const isUsable = async (purpose: AccountLinkPurpose, token: unknown): Promise<boolean> =>
    (await accountLinks.check(storage, purpose, token)) !== undefined;

  return {
    issueVerification,

    /** A new verification link (earlier ones retired); undefined when there is nothing to verify. */
    async reissueVerification(
      userId: string,
      extra: Record<string, string> = {},
      origin: RequestOrigin = {},
    ): Promise<{ user: UserRow; token: string } | undefined> {
      return storage.transaction(async (tx) => {
        const user = await tx.users.findById(userId);
        if (!user || user.emailVerified || user.disabledAt) return undefined;
        const token = await issueVerification(tx, user, extra);
        await audit.within(tx).record('email.verification_sent', { actorId: userId, subjectId: userId }, origin);
        return { user, token };
      });
    },

    /** Whether a link is still good (the page behind it asks before it acts). */
    isUsableVerification: (token: unknown) => isUsable('verify-email', token),
    isUsableChange: (token: unknown) => isUsable('change-email', token),

    /**
     * Uses a verification link: the account's email_verified becomes true, with its event, in
     * one transaction. A link for an address the account no longer has proves nothing.
     */
    async verify(token: unknown, origin: RequestOrigin = {}): Promise<EmailVerification> {
      return storage.transaction(async (tx) => {
        const link = await accountLinks.use(tx, 'verify-email', token);
        const user = link ? await tx.users.findById(link.userId) : null;
        if (!link || !user || user.disabledAt || link.data.email !== user.emailNormalized)
          return { ok: false, reason: 'invalid-link' };
        if (!user.emailVerified) {
          await tx.users.update(user.id, { emailVerified: true });
          await audit.within(tx).record('email.verified', { actorId: user.id, subjectId: user.id }, origin);
        }
        return { ok: true, user: { ...user, emailVerified: true }, data: link.data };
      });
    },

    /**
     * Starts a change of address: checks the new one and issues a link for it. Nothing about the
     * account changes yet. An address another account has gets no link; both paths do the same
     * kind of work (one write to account_links, one event) so their timing does not tell them
     * apart. Throws InvalidInputError for an address that is not one, PolicyRefusedError (rule
     * `email_domain`) for one whose domain may not be used (signUp.allowedEmailDomains).
     */
    async requestChange(userId: string, newEmail: string, origin: RequestOrigin = {}): Promise<EmailChangeRequest> {
      const email = checkEmail(newEmail);
      if (!isAllowedDomain(email, settings.allowedEmailDomains))
        throw new PolicyRefusedError('email', 'email_domain', 'this domain may not be used');
      return storage.transaction(async (tx) => {
        const user = await tx.users.findById(userId);
        const holder = await tx.users.findByEmail(email);
        if (!user || holder?.id === userId) return { ok: false, reason: 'address-unavailable' };
        if (holder) {
          await tx.accountLinks.revoke(NOBODY, 'change-email');
          // The requester's own event, as for a free address (their account page lists it); the
          // outcome is for admins.
          await audit
            .within(tx)
            .record(
              'email.change_requested',
              { actorId: userId, subjectId: userId, details: { outcome: 'address_taken' } },
              origin,
            );
          return { ok: true, kind: 'taken', user, newEmail: email, owner: holder };
        }
        const token = await accountLinks.issue(tx, { userId, purpose: 'change-email', ttlSeconds, data: { email } });
        await audit
          .within(tx)
          .record(
            'email.change_requested',
            { actorId: userId, subjectId: userId, details: { outcome: 'link_sent' } },
            origin,
          );
        return { ok: true, kind: 'link', user, newEmail: email, token };
      });
    },

    /**
     * Uses a change link: the account takes the address the link was sent to, now verified. An
     * address taken since the request is refused, and the link is spent either way.
     */
    async confirmChange(token: unknown, origin: RequestOrigin = {}): Promise<EmailChange> {
      try {
        return await storage.transaction(async (tx): Promise<EmailChange> => {
          const link = await accountLinks.use(tx, 'change-email', token);
          const user = link ? await tx.users.findById(link.userId) : null;
          const email = link?.data.email;
          if (!link || !user || user.disabledAt || !email) return { ok: false, reason: 'invalid-link' };
          const holder = await tx.users.findByEmail(email);
          if (holder) return { ok: false, reason: 'address-unavailable' };
          await tx.users.update(user.id, { email, emailVerified: true });
          // A verification link still pending for the old address must not verify the new one.
          await tx.accountLinks.revoke(user.id, 'verify-email');
          await audit.within(tx).record('email.changed', { actorId: user.id, subjectId: user.id }, origin);
          return {
            ok: true,
            user: { ...user, email, emailNormalized: normalizeEmail(email), emailVerified: true },
            previousEmail: user.email,
          };
        });
      } catch (error) {
        // Taken by a concurrent registration between the check and the update.
        if (error instanceof ConflictError && error.field === 'email')
          return { ok: false, reason: 'address-unavailable' };
        throw error;
      }
    },
  };
}

export type EmailAddressService = ReturnType<typeof createEmailAddressService>;
