import { randomUUID } from 'node:crypto';
import { isUniqueViolation } from './unique-violation.js';
import { In, IsNull, Not, type EntityManager } from 'typeorm';
import { UserEntity, type StoredProfile, type UserRow } from './entities/user.entity.js';
import { CredentialEntity, type CredentialRow } from './entities/credential.entity.js';
import { isUuid } from './ids.js';
import { keysetPage, type KeysetPosition, type Page } from './keyset.js';
import { entityColumns, rowByKey } from './row-by-key.js';
import { runSql } from './data-source.js';
import { writesThrough, type RowCache } from './row-cache.js';
import { ConflictError } from '../errors/domain-errors.js';

export interface NewUser {
  email: string;
  name: string | null;
  emailVerified: boolean;
  passwordHash: string | null;
  /** TOTP seed already encrypted with the key-encryption secret. */
  totpSecretEncrypted: string | null;
  /** Set for an account the user registered themselves (sign-up). */
  selfRegistered?: boolean;
}

export interface ImportedUser extends NewUser {
  disabled: boolean;
}

/** A user with the credentials an export carries (hash and sealed TOTP seed as stored). */
export interface ExportedUserRow {
  user: UserRow;
  passwordHash: string | null;
  totpSecretEncrypted: string | null;
  /** Role names the user holds, sorted. */
  roles: string[];
}

// Rows per INSERT: well under PostgreSQL's 65,535 bind parameters per statement.
const INSERT_CHUNK = 1000;

/**
 * The unique index on the normalised address is the last word on a taken email (two requests
 * may both pass a check before either writes): its violation is the domain's conflict, thrown
 * here because only this layer sees the database's error.
 */
const duplicateEmail = () => new ConflictError('email', 'a user with this email exists');

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The user row by normalised email, as findOneBy gives it (row-by-key.ts), with the password hash. */
const signInStatements = new WeakMap<object, string>();
function signInStatement(db: EntityManager): string {
  const known = signInStatements.get(db.connection);
  if (known) return known;
  const sql = `SELECT ${entityColumns(db, UserEntity, 'u')}, c.secret AS "passwordHash" FROM users u
    LEFT JOIN credentials c ON c.user_id = u.id AND c.type = 'password'
    WHERE u.email_normalized = $1 LIMIT 1`;
  signInStatements.set(db.connection, sql);
  return sql;
}

/** `kept`: the user rows this process keeps between requests (row-cache.ts); the CLI keeps none. */
export function createUsersRepository(db: EntityManager, kept?: RowCache<UserRow>) {
  const users = db.getRepository(UserEntity);
  const byId = rowByKey(db, UserEntity, 'id');
  /** Every change to an existing user's row goes through here (new rows cannot be kept yet). */
  const writing = writesThrough(kept, db);
  const credentials = db.getRepository(CredentialEntity);

  return {
    /** The user and their credentials in one transaction: a failure leaves nothing behind. */
    async create(input: NewUser): Promise<UserRow> {
      try {
        return await db.transaction(async (tx) => {
          const user = await tx.getRepository(UserEntity).save({
            email: input.email.trim(),
            emailNormalized: normalizeEmail(input.email),
            name: input.name,
            emailVerified: input.emailVerified,
            disabledAt: null,
            selfRegisteredAt: input.selfRegistered ? new Date() : null,
          });
          const creds: Array<Partial<CredentialRow>> = [];
          if (input.passwordHash)
            creds.push({ userId: user.id, type: 'password', secret: input.passwordHash, data: {} });
          if (input.totpSecretEncrypted) {
            creds.push({ userId: user.id, type: 'totp', secret: input.totpSecretEncrypted, data: { imported: true } });
          }
          if (creds.length > 0) await tx.getRepository(CredentialEntity).save(creds);
          return user;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw duplicateEmail();
        throw error;
      }
    },

    /**
     * Many users and their credentials in ONE transaction (an import file): all are written
     * or none is. A duplicate email, here or in a concurrent write, fails the whole batch.
     */
    async createMany(inputs: ImportedUser[]): Promise<string[]> {
      const now = new Date();
      // Ids made here, so each credential row can name its user without reading ids back.
      const rows = inputs.map((input) => ({ id: randomUUID(), input }));
      try {
        await db.transaction(async (tx) => {
          const userRepo = tx.getRepository(UserEntity);
          const credRepo = tx.getRepository(CredentialEntity);
          for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
            const chunk = rows.slice(i, i + INSERT_CHUNK);
            await userRepo.insert(
              chunk.map(({ id, input }) => ({
                id,
                email: input.email.trim(),
                emailNormalized: normalizeEmail(input.email),
                name: input.name,
                emailVerified: input.emailVerified,
                disabledAt: input.disabled ? now : null,
              })),
            );
            const creds = chunk.flatMap(({ id, input }) => [
              ...(input.passwordHash
                ? [{ userId: id, type: 'password' as const, secret: input.passwordHash, data: { imported: true } }]
                : []),
              ...(input.totpSecretEncrypted
                ? [
                    {
                      userId: id,
                      type: 'totp' as const,
                      secret: input.totpSecretEncrypted,
                      data: { imported: true },
                      label: 'Authenticator app',
                    },
                  ]
                : []),
            ]);
            if (creds.length > 0) await credRepo.insert(creds);
          }
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw duplicateEmail();
        throw error;
      }
      return rows.map(({ id }) => id);
    },

    /** Which of these normalized emails already belong to a user. */
    async existingEmails(normalized: string[]): Promise<Set<string>> {
      const found = new Set<string>();
      for (let i = 0; i < normalized.length; i += INSERT_CHUNK) {
        const rows = await users.find({
          select: { emailNormalized: true },
          where: { emailNormalized: In(normalized.slice(i, i + INSERT_CHUNK)) },
        });
        rows.forEach((row) => found.add(row.emailNormalized));
      }
      return found;
    },

    /** Every user, oldest first, with the password hash and sealed TOTP seed as stored. */
    async listForExport(): Promise<ExportedUserRow[]> {
      const all = await users.find({ order: { createdAt: 'ASC', id: 'ASC' } });
      const creds = await credentials.find({ where: { type: In(['password', 'totp']) } });
      const password = new Map<string, string>();
      const totp = new Map<string, string>();
      for (const row of creds) (row.type === 'password' ? password : totp).set(row.userId, row.secret);
      const held: Array<{ user_id: string; name: string }> = await db.query(
        'SELECT ur.user_id, r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id ORDER BY r.name',
      );
      const roles = new Map<string, string[]>();
      for (const row of held) roles.set(row.user_id, [...(roles.get(row.user_id) ?? []), row.name]);
      return all.map((user) => ({
        user,
        passwordHash: password.get(user.id) ?? null,
        totpSecretEncrypted: totp.get(user.id) ?? null,
        roles: roles.get(user.id) ?? [],
      }));
    },

    /** null also for an id that is not a uuid: it cannot name a user, and would fail the cast. */
    findById: async (id: string) => {
      if (!isUuid(id)) return null;
      return kept ? kept.read(id, () => byId(id)) : byId(id);
    },
    /** The email addresses of these users, by id, in one query (the audit page names its people). */
    async emailsOf(ids: string[]): Promise<Map<string, string>> {
      const wanted = [...new Set(ids.filter(isUuid))];
      if (wanted.length === 0) return new Map();
      const rows = await users.find({ where: { id: In(wanted) }, select: { id: true, email: true } });
      return new Map(rows.map((row) => [row.id, row.email]));
    },
    // An address with U+0000 cannot exist (PostgreSQL text cannot hold it) and would fail the query.
    findByEmail: async (email: string) =>
      email.includes('\u0000') ? null : users.findOneBy({ emailNormalized: normalizeEmail(email) }),

    /**
     * The account a password sign-in names and its password hash, in one statement: a sign-in
     * read them one after the other (issue 20). Null when no account has this address.
     */
    async findByEmailWithPasswordHash(email: string): Promise<{ user: UserRow; passwordHash: string | null } | null> {
      if (email.includes('\u0000')) return null;
      const { rows } = await runSql<UserRow & { passwordHash: string | null }>(db, signInStatement(db), [
        normalizeEmail(email),
      ]);
      const row = rows[0];
      if (!row) return null;
      const { passwordHash, ...user } = row;
      return { user, passwordHash };
    },

    list: (options: { includeDisabled: boolean }) =>
      users.find({
        where: options.includeDisabled ? {} : { disabledAt: IsNull() },
        order: { createdAt: 'ASC' },
      }),

    async setDisabled(id: string, disabled: boolean): Promise<void> {
      await writing(id, () => users.update({ id }, { disabledAt: disabled ? new Date() : null }));
    },

    async passwordHash(userId: string): Promise<string | null> {
      const row = await credentials.findOneBy({ userId, type: 'password' });
      return row?.secret ?? null;
    },

    async setPasswordHash(userId: string, hash: string): Promise<void> {
      await db.transaction(async (tx) => {
        const repo = tx.getRepository(CredentialEntity);
        await repo.delete({ userId, type: 'password' });
        await repo.save({ userId, type: 'password', secret: hash, data: {} });
      });
    },

    /** Nothing of the answer is read: in a transaction the update travels with its next statement. */
    async markPasswordUsed(userId: string): Promise<void> {
      await runSql(
        db,
        "UPDATE credentials SET last_used_at = now() WHERE user_id = $1 AND type = 'password'",
        [userId],
        {
          deferrable: true,
        },
      );
    },

    /** Users oldest first, optionally those whose email or name contains `search`. */
    page(options: { search?: string; after?: KeysetPosition; limit: number }): Promise<Page<UserRow>> {
      const qb = users.createQueryBuilder('u');
      const search = options.search?.replaceAll('\u0000', '').trim();
      if (search) {
        const pattern = `%${search.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
        qb.where("(u.emailNormalized LIKE :pattern ESCAPE '\\' OR lower(u.name) LIKE :pattern ESCAPE '\\')", {
          pattern,
        });
      }
      return keysetPage(qb, 'u', options.after, options.limit);
    },

    /** Changes profile fields; a new email must not belong to another user. */
    async update(
      id: string,
      changes: { email?: string; name?: string | null; emailVerified?: boolean },
    ): Promise<void> {
      const values: Partial<UserRow> = {};
      if (changes.email !== undefined)
        Object.assign(values, { email: changes.email.trim(), emailNormalized: normalizeEmail(changes.email) });
      if (changes.name !== undefined) values.name = changes.name;
      if (changes.emailVerified !== undefined) values.emailVerified = changes.emailVerified;
      if (Object.keys(values).length === 0) return;
      try {
        await writing(id, () => users.update({ id }, values));
      } catch (error) {
        if (isUniqueViolation(error)) throw duplicateEmail();
        throw error;
      }
    },

    /** Replaces the profile claims document (validated by accounts/profile.ts). */
    async updateProfile(id: string, profile: StoredProfile): Promise<void> {
      await writing(id, () => users.update({ id }, { profile }));
    },

    /** Deletes the user; credentials and role assignments go with it (foreign keys cascade). */
    async delete(id: string): Promise<boolean> {
      const result = await writing(id, () => users.delete({ id }));
      return (result.affected ?? 0) > 0;
    },

    countDisabled: () => users.countBy({ disabledAt: Not(IsNull()) }),
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
