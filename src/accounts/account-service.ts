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
  /** A lockout wait is running for this email (known or not) from this address, or for the account. */
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

export type PasswordChange =
  | { ok: true }
  | { ok: false; reason: 'wrong-current-password' }
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

  return {
    /**
     * Every attempt is a security event; a failure records its reason and the account when
     * one exists, never the typed identifier (people type passwords into the email field).
     */
    async signInWithPassword(email: string, password: string, origin: RequestOrigin = {}): Promise<PasswordSignIn> {
      const user = await users.findByEmail(email);
      const ip = origin.ip ?? '';
      const failed = (detail: string) => audit.record('signin.password.failed', { subjectId: user?.id ?? null, details: { reason: detail } }, origin);
      // Keyed by the typed email, not the account: an unknown address waits exactly like a known one.
      const wait = await lockout.check('password', email, ip);
      if (wait) {
        await failed('locked_out');
        return { ok: false, reason: 'throttled', retryAfterSeconds: wait.retryAfterSeconds };
      }
      // Always one argon2 verification, also for unknown or disabled accounts.
      const hash = user && !user.disabledAt ? await users.passwordHash(user.id) : null;
      const valid = await passwords.verify(hash, password);
      if (!user || user.disabledAt || !valid) {
        const started = await lockout.recordFailure('password', email, ip);
        if (started) {
          await audit.record('signin.locked_out', {
            subjectId: user?.id ?? null, details: { factor: 'password', scope: started.scope, waitSeconds: started.retryAfterSeconds },
          }, origin);
        }
        await failed(!user ? 'unknown_account' : user.disabledAt ? 'disabled' : 'wrong_password');
        return { ok: false, reason: 'invalid-credentials' };
      }
      await lockout.recordSuccess('password', email, ip);
      // The password is known now: an imported hash (bcrypt, PBKDF2, scrypt, argon2i) or argon2id of
      // older parameters becomes argon2id of the current ones (docs/import.md). Hashed before the
      // transaction opens: argon2 takes tens of milliseconds a connection should not be held for.
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
     * 'password.changed' event commit together. Not throttled here: the caller already holds
     * a signed-in session, and a wrong current password changes nothing.
     */
    async changePassword(userId: string, current: string, next: string, origin: RequestOrigin = {}): Promise<PasswordChange> {
      if (!(await passwords.verify(await users.passwordHash(userId), current))) return { ok: false, reason: 'wrong-current-password' };
      const user = await users.findById(userId);
      const problem = await deps.policy.problem(next, { email: user?.email ?? '' });
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
