import type { UserRow } from '../storage/entities/user.entity.js';
import type { UsersRepository } from '../storage/users.repository.js';
import type { PasswordHasher } from './passwords.js';
import type { Lockout } from '../security/lockout.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import type { Storage } from '../storage/storage.js';
import type { PasswordPolicy, PasswordProblem } from './password-policy.js';

export type PasswordSignIn =
  | { ok: true; user: UserRow }
  /** One reason for every failure the user may see: no hint whether the email exists. */
  | { ok: false; reason: 'invalid-credentials' }
  /**
   * The right password of a disabled account: only someone who knows it learns that the account
   * exists and is disabled (issue 15, item 10); without it, the answer is 'invalid-credentials'.
   */
  | { ok: false; reason: 'disabled' }
  /** A lockout wait is running for this email (known or not) from this address, or for the account. */
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

export type PasswordChange =
  | { ok: true }
  | { ok: false; reason: 'wrong-current-password' }
  /** The sign-in lockout is running for the account from this address (or for the whole account). */
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number }
  /** The new password breaks a rule; `problem` says which, as a catalogue message for the page. */
  | { ok: false; reason: 'weak-password'; problem: PasswordProblem };

/** Sign-in decisions. No HTTP here: routes call these and render the outcome. */
export function createAccountService(deps: {
  users: UsersRepository;
  passwords: PasswordHasher;
  lockout: Lockout;
  policy: PasswordPolicy;
  audit: AuditLog;
  /** Runs a change and its audit event in one transaction. */
  transaction: Storage['transaction'];
}) {
  const { users, passwords, lockout, audit } = deps;

  type GuardedCheck = { outcome: 'valid' | 'invalid' } | { outcome: 'throttled'; retryAfterSeconds: number };

  /**
   * A password check behind the lockout (docs/abuse-protection.md, "Lockout"), the one the
   * sign-in page and the password change on /account share: during a wait nothing is
   * verified; a failure counts and may start a wait (audited); a success forgets the failures.
   * `account` is the lockout's key: the typed email at sign-in, the account's email on /account.
   */
  async function checkBehindLockout(
    account: string,
    subjectId: string | null,
    origin: RequestOrigin,
    verify: () => Promise<boolean>,
  ): Promise<GuardedCheck> {
    const ip = origin.ip ?? '';
    const wait = await lockout.check('password', account, ip);
    if (wait) return { outcome: 'throttled', retryAfterSeconds: wait.retryAfterSeconds };
    if (await verify()) {
      await lockout.recordSuccess('password', account, ip);
      return { outcome: 'valid' };
    }
    const started = await lockout.recordFailure('password', account, ip);
    if (started) {
      await audit.record(
        'signin.locked_out',
        {
          subjectId,
          details: { factor: 'password', scope: started.scope, waitSeconds: started.retryAfterSeconds },
        },
        origin,
      );
    }
    return { outcome: 'invalid' };
  }

  return {
    /**
     * Every attempt is a security event; a failure records its reason and the account when
     * one exists, never the typed identifier (people type passwords into the email field).
     */
    async signInWithPassword(email: string, password: string, origin: RequestOrigin = {}): Promise<PasswordSignIn> {
      const found = await users.findByEmailWithPasswordHash(email);
      const user = found?.user;
      const failed = (detail: string) =>
        audit.record('signin.password.failed', { subjectId: user?.id ?? null, details: { reason: detail } }, origin);
      // Keyed by the typed email, not the account: an unknown address waits exactly like a known one.
      // Always one argon2 verification against the account's own hash (a dummy one for an unknown
      // address), disabled or not: the same work whatever the account's state.
      const stored: { hash: string | null } = { hash: null };
      const checked = await checkBehindLockout(email, user?.id ?? null, origin, async () => {
        stored.hash = found?.passwordHash ?? null;
        const valid = await passwords.verify(stored.hash, password);
        return Boolean(user && valid);
      });
      if (checked.outcome === 'throttled') {
        await failed('locked_out');
        return { ok: false, reason: 'throttled', retryAfterSeconds: checked.retryAfterSeconds };
      }
      if (checked.outcome === 'invalid' || !user) {
        await failed(!user ? 'unknown_account' : user.disabledAt ? 'disabled_wrong_password' : 'wrong_password');
        return { ok: false, reason: 'invalid-credentials' };
      }
      if (user.disabledAt) {
        // The password was right: saying why the sign-in stops tells nothing to someone who did
        // not know it, and spares its owner a reset that could not help (docs/account-lifecycle.md).
        await failed('disabled');
        return { ok: false, reason: 'disabled' };
      }
      // The password is known now: an imported hash (bcrypt, PBKDF2, scrypt, argon2i) or argon2id of
      // older parameters becomes argon2id of the current ones (docs/import.md). Hashed before the
      // transaction opens: argon2 takes tens of milliseconds a connection should not be held for.
      const { hash } = stored;
      const rehashed = hash && passwords.needsRehash(hash) ? await passwords.hash(password) : null;
      await deps.transaction(async (tx) => {
        if (rehashed) await tx.users.setPasswordHash(user.id, rehashed);
        await tx.users.markPasswordUsed(user.id);
        await audit.within(tx).record('signin.password.succeeded', { actorId: user.id, subjectId: user.id }, origin);
      });
      return { ok: true, user };
    },

    /**
     * The user's own password change (they typed the current one): the new hash and its
     * 'password.changed' event commit together. The current password is checked behind the
     * same lockout as sign-in (keyed by the account's email): a stolen session must not be a
     * place to guess it without limit (issue 14, finding 4).
     */
    async changePassword(
      userId: string,
      current: string,
      next: string,
      origin: RequestOrigin = {},
    ): Promise<PasswordChange> {
      const user = await users.findById(userId);
      if (!user) return { ok: false, reason: 'wrong-current-password' };
      const checked = await checkBehindLockout(user.email, user.id, origin, async () =>
        passwords.verify(await users.passwordHash(userId), current),
      );
      if (checked.outcome !== 'valid') {
        const reason = checked.outcome === 'throttled' ? 'locked_out' : 'wrong_password';
        await audit.record(
          'password.change_failed',
          { actorId: userId, subjectId: userId, details: { reason } },
          origin,
        );
        return checked.outcome === 'throttled'
          ? { ok: false, reason: 'throttled', retryAfterSeconds: checked.retryAfterSeconds }
          : { ok: false, reason: 'wrong-current-password' };
      }
      const problem = await deps.policy.problem(next, { email: user.email });
      if (problem) return { ok: false, reason: 'weak-password', problem };
      const hash = await passwords.hash(next);
      await deps.transaction(async (tx) => {
        await tx.users.setPasswordHash(userId, hash);
        await audit.within(tx).record('password.changed', { actorId: userId, subjectId: userId }, origin);
      });
      return { ok: true };
    },

    /** The account behind a session or token, or undefined when it is gone or disabled. */
    async findActiveUser(id: string): Promise<UserRow | undefined> {
      const user = await users.findById(id);
      return user && !user.disabledAt ? user : undefined;
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;
