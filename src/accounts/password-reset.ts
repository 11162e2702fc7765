import type { Storage } from '../storage/storage.js';
import type { UserRow } from '../storage/entities/user.entity.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import { accountLinks, NOBODY } from './account-links.js';
import type { PasswordHasher } from './passwords.js';
import type { PasswordPolicy, PasswordProblem } from './password-policy.js';
import type { SessionsEnded } from './user-sessions.js';
import type { Lockout } from '../security/lockout.js';
import type { EndedSession } from '../storage/sessions.repository.js';

const PURPOSE = 'reset-password';
/** An oidc-provider interaction uid, carried so the user can go back to the sign-in they left. */
const INTERACTION_UID = /^[A-Za-z0-9_-]{1,64}$/;

export type ResetLink = { ok: true; user: UserRow; interactionUid: string | null } | { ok: false };

export type ResetOutcome =
  | { ok: true; user: UserRow; interactionUid: string | null }
  | { ok: false; reason: 'invalid-link' }
  | { ok: false; reason: 'weak-password'; problem: PasswordProblem };

export interface ResetRequest {
  email: string;
  interactionUid?: string | null;
  origin: RequestOrigin;
  /**
   * The address's silent cap is reached (rateLimits.passwordResetEmailCap): no link, and so no
   * mail, but the same work and the same answer as any other request.
   */
  capped?: boolean;
}

/**
 * What to mail after a request: a link when an active account uses the address; a notice
 * without a link when a disabled one does (its owner learns why no reset can help, and only
 * the mailbox hears it: the page says the same either way; docs/account-lifecycle.md).
 */
export type ResetMail = { kind: 'link'; user: UserRow; token: string } | { kind: 'disabled'; user: UserRow };

/**
 * Password reset by mailed link (docs/passwords.md). Asking never says whether the address has
 * an account: both paths do the same database work, and the caller mails the link only after
 * it has answered (mail/account-mail.ts). Using the link sets the password, ends every session, grant and token of the user,
 * and voids the user's other reset links, in one transaction with its audit event.
 */
export function createPasswordReset(deps: {
  storage: Storage;
  passwords: PasswordHasher;
  policy: PasswordPolicy;
  audit: AuditLog;
  linkTtlSeconds: number;
  /** Back-channel logout for every session the reset ends (after the transaction commits). */
  sessionsEnded: SessionsEnded;
  /** The mailbox owner proved themselves: a lockout on their sign-in is lifted. */
  lockout: Lockout;
}) {
  const { storage, audit } = deps;

  /** The user behind a link that is unused, unexpired, and was mailed to the address the account still has. */
  async function userOf(
    link: { userId: string; data: Record<string, string> } | undefined,
  ): Promise<UserRow | undefined> {
    if (!link) return undefined;
    const user = await storage.users.findById(link.userId);
    if (!user || user.disabledAt || user.emailNormalized !== link.data.email) return undefined;
    return user;
  }

  /** Checks a link without using it: GET shows the form, POST acts. */
  async function open(token: unknown): Promise<ResetLink> {
    const link = await accountLinks.check(storage, PURPOSE, token);
    const user = await userOf(link);
    return user ? { ok: true, user, interactionUid: link?.data.interaction ?? null } : { ok: false };
  }

  return {
    async request(input: ResetRequest): Promise<ResetMail | undefined> {
      const user = input.email.length <= 320 ? await storage.users.findByEmail(input.email) : null;
      const active = user && !user.disabledAt && !input.capped ? user : undefined;
      const interaction =
        input.interactionUid && INTERACTION_UID.test(input.interactionUid) ? input.interactionUid : undefined;
      const token = await storage.transaction(async (tx) => {
        const issued = active
          ? await accountLinks.issue(tx, {
              userId: active.id,
              purpose: PURPOSE,
              ttlSeconds: deps.linkTtlSeconds,
              data: { email: active.emailNormalized, ...(interaction ? { interaction } : {}) },
            })
          : await tx.accountLinks.revoke(NOBODY, PURPOSE).then(() => undefined);
        // The typed address is never recorded (people type passwords into email fields).
        await audit.within(tx).record(
          'password.reset_requested',
          {
            subjectId: user?.id ?? null,
            details: { outcome: input.capped ? 'capped' : active ? 'mailed' : user ? 'disabled' : 'unknown_account' },
          },
          input.origin,
        );
        return issued;
      });
      if (active && token) return { kind: 'link', user: active, token };
      // The cap bounds what one mailbox gets, notices included.
      return user && user.disabledAt && !input.capped ? { kind: 'disabled', user } : undefined;
    },

    open,

    async complete(token: unknown, password: string, origin: RequestOrigin): Promise<ResetOutcome> {
      const opened = await open(token);
      if (!opened.ok) return { ok: false, reason: 'invalid-link' };
      const { user } = opened;
      const problem = await deps.policy.problem(password, user);
      if (problem) return { ok: false, reason: 'weak-password', problem };
      // Hashing is slow: done before the transaction opens.
      const hash = await deps.passwords.hash(password);
      const ended = await storage.transaction(async (tx): Promise<EndedSession[] | undefined> => {
        // Using the link is the atomic step: of two concurrent submissions only one gets here.
        const link = await accountLinks.use(tx, PURPOSE, token);
        if (link?.userId !== user.id) return undefined;
        await tx.users.setPasswordHash(user.id, hash);
        await tx.accountLinks.revoke(user.id, PURPOSE);
        // The link reached the account's mailbox: that proves control of the address (docs/passwords.md).
        if (!user.emailVerified) await tx.users.update(user.id, { emailVerified: true });
        const { removed: revoked, sessions } = await tx.sessions.signOutEverywhere(user.id);
        await audit.within(tx).record(
          'password.reset',
          {
            actorId: user.id,
            subjectId: user.id,
            details: { revoked, emailVerified: !user.emailVerified },
          },
          origin,
        );
        return sessions;
      });
      if (!ended) return { ok: false, reason: 'invalid-link' };
      deps.sessionsEnded(ended);
      await deps.lockout.clear('password', user.email);
      return { ok: true, user, interactionUid: opened.interactionUid };
    },
  };
}

export type PasswordReset = ReturnType<typeof createPasswordReset>;
