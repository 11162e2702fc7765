import type { SessionsEnded } from '../accounts/user-sessions.js';
import type { Storage } from '../storage/storage.js';
import type { UserRow } from '../storage/entities/user.entity.js';
import type { KeysetPosition, Page } from '../storage/keyset.js';
import { DuplicateEmailError, normalizeEmail } from '../storage/users.repository.js';
import { RoleInputError } from '../storage/roles.repository.js';
import type { AuditLog } from '../security/audit.js';
import type { PasswordHasher } from '../accounts/passwords.js';
import type { PasswordPolicy } from '../accounts/password-policy.js';
import type { FactorSummary, SecondFactorService } from '../accounts/second-factors.js';
import { checkEmail, checkName, prepareNewUser, type NewUserFields } from '../accounts/user-fields.js';
import { UserInputError } from '../accounts/errors.js';
import type { SecretBox } from '../security/secret-box.js';
import type { Lockout, LockoutStatus } from '../security/lockout.js';
import { ImportRejectedError, type ImportSummary, type UserImport } from '../accounts/user-import.js';
import { recordAdminAction, type AdminActor } from './actor.js';
import { ConflictError, FieldError, InvalidFileError } from '../http/errors.js';
import { userOrNotFound } from './lookups.js';

export interface UserDetail {
  user: UserRow;
  roles: string[];
  factors: FactorSummary;
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

/** Domain input errors as the API's field errors; a taken email is a conflict. */
function translate(error: unknown): never {
  if (error instanceof UserInputError) throw new FieldError(error.field.replace('-', '_'), error.message.replace(/^[^:]+: /, ''));
  if (error instanceof RoleInputError) throw new FieldError(error.field === 'role' ? 'roles' : error.field, error.message.replace(/^[^:]+: /, ''));
  if (error instanceof DuplicateEmailError) throw new ConflictError('email', 'a user with this email exists');
  throw error;
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    return translate(error);
  }
}

/**
 * User administration for the admin API and console. Every change and its audit event commit
 * in one transaction; disabling or deleting a user ends their sessions and tokens in it too.
 */
export function createUsersAdmin(deps: {
  storage: Storage; audit: AuditLog; box: SecretBox; passwords: PasswordHasher; policy: PasswordPolicy; secondFactors: SecondFactorService; userImport: UserImport; lockout: Lockout;
  /** Back-channel logout for the sessions that disabling or deleting a user ends. */
  sessionsEnded: SessionsEnded;
}) {
  const { storage, audit, passwords, secondFactors, lockout } = deps;

  const existing = (id: string) => userOrNotFound(storage, id);

  return {
    page: (options: { search?: string; after?: KeysetPosition; limit: number }): Promise<Page<UserRow>> => storage.users.page(options),

    async get(id: string): Promise<UserDetail> {
      const user = await existing(id);
      const [roles, factors, hash, password, secondFactor] = await Promise.all([
        storage.roles.rolesOf(id), secondFactors.summary(id), storage.users.passwordHash(id),
        lockout.status('password', user.email), lockout.status('second_factor', id),
      ]);
      return { user, roles, factors, hasPassword: hash !== null, lockout: { password, secondFactor } };
    },

    create: (input: NewUserInput, actor: AdminActor): Promise<UserRow> => guarded(async () => {
      // Hashing is slow: done before the transaction opens, not while it holds a connection.
      const fields = await prepareNewUser(input, passwords, deps.policy, deps.box);
      return storage.transaction(async (tx) => {
        const user = await tx.users.create(fields);
        for (const role of new Set(input.roles ?? [])) await tx.roles.assign(user.id, role);
        await recordAdminAction(audit, tx, actor, 'user.created', { subjectId: user.id, details: { roles: input.roles ?? [] } });
        return user;
      });
    }),

    update: (id: string, changes: UserChanges, actor: AdminActor): Promise<UserRow> => guarded(async () => {
      const user = await existing(id);
      const values: UserChanges = {};
      if (changes.email !== undefined) values.email = checkEmail(changes.email);
      if (changes.name !== undefined) values.name = checkName(changes.name);
      if (changes.emailVerified !== undefined) values.emailVerified = changes.emailVerified;
      // email_verified vouches for the address it was verified with: a new address is not
      // verified unless the admin says so in the same change (a change of case is the same address).
      else if (values.email !== undefined && normalizeEmail(values.email) !== user.emailNormalized) values.emailVerified = false;
      await storage.transaction(async (tx) => {
        await tx.users.update(id, values);
        await recordAdminAction(audit, tx, actor, 'user.updated', { subjectId: id, details: { fields: Object.keys(values).sort() } });
      });
      return existing(id);
    }),

    /** Disabling ends every session, grant and token of the user at once (ASVS 5 7.4.2). */
    async setDisabled(id: string, disabled: boolean, actor: AdminActor): Promise<UserRow> {
      await existing(id);
      const ended = await storage.transaction(async (tx) => {
        await tx.users.setDisabled(id, disabled);
        const revoked = disabled ? await tx.sessions.signOutEverywhere(id) : { removed: 0, sessions: [] };
        await recordAdminAction(audit, tx, actor, disabled ? 'user.disabled' : 'user.enabled', { subjectId: id, details: disabled ? { revoked: revoked.removed } : {} });
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

    setPassword: (id: string, password: string, actor: AdminActor): Promise<void> => guarded(async () => {
      const user = await existing(id);
      const hash = await passwords.hash(await deps.policy.enforce(password, user));
      await storage.transaction(async (tx) => {
        await tx.users.setPasswordHash(id, hash);
        await recordAdminAction(audit, tx, actor, 'user.password_set', { subjectId: id });
      });
    }),

    async resetFactors(id: string, actor: AdminActor): Promise<number> {
      await existing(id);
      return secondFactors.reset(id, { actorId: actor.userId, clientId: actor.clientId }, actor.origin);
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
    async import(text: string, actor: AdminActor): Promise<ImportSummary> {
      try {
        return await deps.userImport.importUsers(text, (tx, summary) => recordAdminAction(audit, tx, actor, 'users.imported', {
          details: { imported: summary.imported, rolesCreated: summary.rolesCreated },
        }));
      } catch (error) {
        if (error instanceof ImportRejectedError) throw new InvalidFileError(error.problems);
        return translate(error);
      }
    },
  };
}

export type UsersAdmin = ReturnType<typeof createUsersAdmin>;
