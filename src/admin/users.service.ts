import type { SessionsEnded } from '../accounts/user-sessions.js';
import type { Repositories, Storage } from '../storage/storage.js';
import type { UserRow } from '../storage/entities/user.entity.js';
import type { KeysetPosition, Page } from '../storage/keyset.js';
import { normalizeEmail } from '../storage/users.repository.js';
import type { AuditLog } from '../security/audit.js';
import type { PasswordHasher } from '../accounts/passwords.js';
import type { PasswordPolicy } from '../accounts/password-policy.js';
import type { FactorSummary, SecondFactorService } from '../accounts/second-factors.js';
import { checkEmail, checkName, prepareNewUser, type NewUserFields } from '../accounts/user-fields.js';
import type { SecretBox } from '../security/secret-box.js';
import type { Lockout, LockoutStatus } from '../security/lockout.js';
import type { ImportSummary, UserImport } from '../accounts/user-import.js';
import { recordAdminAction, type AdminActor } from '../security/admin-actor.js';
import { InvalidInputError, NotFoundError } from '../errors/domain-errors.js';
import { userOrNotFound } from '../accounts/user-lookup.js';
import { maskRecipient } from '../delivery/code-delivery.js';
import type { CodeChannel } from '../storage/one-time-codes.repository.js';

export interface UserDetail {
  user: UserRow;
  roles: string[];
  factors: FactorSummary;
  /** Passkeys and security keys apart (factors.webauthn counts both), and the code factors of issue 18. */
  keys: { passkeys: number; securityKeys: number };
  codes: {
    email: boolean;
    sms: boolean;
    /** The number, masked as in the delivery log (+49********67): admins need to recognise it, not read it. */
    maskedPhoneNumber: string | null;
  };
  hasPassword: boolean;
  /** Account-wide lockout counts and waits (per-address waits are not listed: see docs/abuse-protection.md). */
  lockout: { password: LockoutStatus; secondFactor: LockoutStatus };
}

export interface NewUserInput extends NewUserFields {
  roles?: string[];
}

export interface UserChanges {
  email?: string;
  name?: string | null;
  emailVerified?: boolean;
}

/** A role named in a new user's `roles` that does not exist is a bad value of that field, not a 404. */
async function assignNamed(tx: Repositories, userId: string, role: string): Promise<void> {
  try {
    await tx.roles.assign(userId, role);
  } catch (error) {
    if (error instanceof NotFoundError) throw new InvalidInputError('roles', `no role named "${role}"`);
    throw error;
  }
}

/**
 * User administration for the admin API and console. Every change and its audit event commit
 * in one transaction; disabling or deleting a user ends their sessions and tokens in it too.
 */
export function createUsersAdmin(deps: {
  storage: Storage;
  audit: AuditLog;
  box: SecretBox;
  passwords: PasswordHasher;
  policy: PasswordPolicy;
  secondFactors: SecondFactorService;
  userImport: UserImport;
  lockout: Lockout;
  /** Back-channel logout for the sessions that disabling or deleting a user ends. */
  sessionsEnded: SessionsEnded;
}) {
  const { storage, audit, passwords, secondFactors, lockout } = deps;

  const existing = (id: string) => userOrNotFound(storage, id);

  return {
    page: (options: { search?: string; after?: KeysetPosition; limit: number }): Promise<Page<UserRow>> =>
      storage.users.page(options),

    async get(id: string): Promise<UserDetail> {
      const user = await existing(id);
      const [roles, factors, hash, password, secondFactor, credentials, channels, phone] = await Promise.all([
        storage.roles.rolesOf(id),
        secondFactors.summary(id),
        storage.users.passwordHash(id),
        lockout.status('password', user.email),
        lockout.status('second_factor', id),
        storage.credentials.listSecondFactors(id),
        storage.phones.factors(id),
        storage.phones.find(id),
      ]);
      const securityKeys = credentials.filter((c) => c.type === 'webauthn' && c.data?.kind === 'security_key').length;
      return {
        user,
        roles,
        factors,
        keys: { passkeys: factors.webauthn - securityKeys, securityKeys },
        codes: {
          email: channels.includes('email'),
          sms: channels.includes('sms') && phone?.verified === true,
          maskedPhoneNumber: phone ? maskRecipient(phone.phoneNumber) : null,
        },
        hasPassword: hash !== null,
        lockout: { password, secondFactor },
      };
    },

    async create(input: NewUserInput, actor: AdminActor): Promise<UserRow> {
      // Hashing is slow: done before the transaction opens, not while it holds a connection.
      const fields = await prepareNewUser(input, passwords, deps.policy, deps.box);
      return storage.transaction(async (tx) => {
        const user = await tx.users.create(fields);
        for (const role of new Set(input.roles ?? [])) await assignNamed(tx, user.id, role);
        await recordAdminAction(audit, tx, actor, 'user.created', {
          subjectId: user.id,
          details: { roles: input.roles ?? [] },
        });
        return user;
      });
    },

    async update(id: string, changes: UserChanges, actor: AdminActor): Promise<UserRow> {
      const user = await existing(id);
      const values: UserChanges = {};
      if (changes.email !== undefined) values.email = checkEmail(changes.email);
      if (changes.name !== undefined) values.name = checkName(changes.name);
      if (changes.emailVerified !== undefined) values.emailVerified = changes.emailVerified;
      // email_verified vouches for the address it was verified with: a new address is not
      // verified unless the admin says so in the same change (a change of case is the same address).
      else if (values.email !== undefined && normalizeEmail(values.email) !== user.emailNormalized)
        values.emailVerified = false;
      await storage.transaction(async (tx) => {
        await tx.users.update(id, values);
        await recordAdminAction(audit, tx, actor, 'user.updated', {
          subjectId: id,
          details: { fields: Object.keys(values).sort() },
        });
      });
      return existing(id);
    },

    /** Disabling ends every session, grant and token of the user at once (ASVS 5 7.4.2). */
    async setDisabled(id: string, disabled: boolean, actor: AdminActor): Promise<UserRow> {
      await existing(id);
      const ended = await storage.transaction(async (tx) => {
        await tx.users.setDisabled(id, disabled);
        const revoked = disabled ? await tx.sessions.signOutEverywhere(id) : { removed: 0, sessions: [] };
        await recordAdminAction(audit, tx, actor, disabled ? 'user.disabled' : 'user.enabled', {
          subjectId: id,
          details: disabled ? { revoked: revoked.removed } : {},
        });
        return revoked.sessions;
      });
      deps.sessionsEnded(ended);
      return existing(id);
    },

    async delete(id: string, actor: AdminActor): Promise<void> {
      const user = await existing(id);
      const ended = await storage.transaction(async (tx) => {
        const { sessions } = await tx.sessions.signOutEverywhere(id);
        await tx.users.delete(id);
        // The subject is gone; the event keeps the id and email so the deletion stays traceable.
        await recordAdminAction(audit, tx, actor, 'user.deleted', { subjectId: id, details: { email: user.email } });
        return sessions;
      });
      deps.sessionsEnded(ended);
    },

    async setPassword(id: string, password: string, actor: AdminActor): Promise<void> {
      const user = await existing(id);
      const hash = await passwords.hash(await deps.policy.enforce(password, user));
      await storage.transaction(async (tx) => {
        await tx.users.setPasswordHash(id, hash);
        await recordAdminAction(audit, tx, actor, 'user.password_set', { subjectId: id });
      });
    },

    async resetFactors(id: string, actor: AdminActor): Promise<number> {
      await existing(id);
      return secondFactors.reset(id, { actorId: actor.userId, clientId: actor.clientId }, actor.origin);
    },

    /**
     * Turns off one code factor of the user (issue 18): email codes, or SMS with the number.
     * The user's pending codes go too, so a code sent before the removal cannot finish a sign-in.
     */
    async removeCodeFactor(id: string, channel: CodeChannel, actor: AdminActor): Promise<void> {
      await existing(id);
      await storage.transaction(async (tx) => {
        const removed = await tx.phones.disableFactor(id, channel);
        const number = channel === 'sms' ? await tx.phones.remove(id) : false;
        await tx.oneTimeCodes.revoke('second_factor', id);
        if (removed || number) {
          await recordAdminAction(audit, tx, actor, channel === 'sms' ? 'mfa.sms.removed' : 'mfa.email.removed', {
            subjectId: id,
          });
        }
      });
    },

    /**
     * Ends every lockout wait of the user and forgets their failures, password and second
     * factor, for all addresses. The counters live in Redis, not the database: the audit event
     * is written once they are cleared (an unlock that failed is not recorded as done).
     */
    async unlock(id: string, actor: AdminActor): Promise<void> {
      const user = await existing(id);
      await Promise.all([lockout.clear('password', user.email), lockout.clear('second_factor', id)]);
      await storage.transaction((tx) => recordAdminAction(audit, tx, actor, 'lockout.cleared', { subjectId: id }));
    },

    /** A JSONL file (docs/import.md): every user or none; problems come back with line numbers. */
    import(text: string, actor: AdminActor): Promise<ImportSummary> {
      return deps.userImport.importUsers(text, (tx, summary) =>
        recordAdminAction(audit, tx, actor, 'users.imported', {
          details: { imported: summary.imported, rolesCreated: summary.rolesCreated },
        }),
      );
    },
  };
}

export type UsersAdmin = ReturnType<typeof createUsersAdmin>;
