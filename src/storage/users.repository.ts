import { IsNull, Not, type DataSource } from 'typeorm';
import { UserEntity, type UserRow } from './entities/user.entity.js';
import { CredentialEntity, type CredentialRow } from './entities/credential.entity.js';

export interface NewUser {
  email: string;
  name: string | null;
  emailVerified: boolean;
  passwordHash: string | null;
  /** TOTP seed already encrypted with the key-encryption secret. */
  totpSecretEncrypted: string | null;
}

export class DuplicateEmailError extends Error {
  constructor() {
    super('a user with this email exists');
    this.name = 'DuplicateEmailError';
  }
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

export function createUsersRepository(db: DataSource) {
  const users = db.getRepository(UserEntity);
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
          });
          const creds: Array<Partial<CredentialRow>> = [];
          if (input.passwordHash) creds.push({ userId: user.id, type: 'password', secret: input.passwordHash, data: {} });
          if (input.totpSecretEncrypted) {
            creds.push({ userId: user.id, type: 'totp', secret: input.totpSecretEncrypted, data: { imported: true } });
          }
          if (creds.length > 0) await tx.getRepository(CredentialEntity).save(creds);
          return user;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateEmailError();
        throw error;
      }
    },

    findById: (id: string) => users.findOneBy({ id }),
    // An address with U+0000 cannot exist (PostgreSQL text cannot hold it) and would fail the query.
    findByEmail: async (email: string) => (email.includes('\u0000') ? null : users.findOneBy({ emailNormalized: normalizeEmail(email) })),

    list: (options: { includeDisabled: boolean }) => users.find({
      where: options.includeDisabled ? {} : { disabledAt: IsNull() },
      order: { createdAt: 'ASC' },
    }),

    async setDisabled(id: string, disabled: boolean): Promise<void> {
      await users.update({ id }, { disabledAt: disabled ? new Date() : null });
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

    async markPasswordUsed(userId: string): Promise<void> {
      await credentials.update({ userId, type: 'password' }, { lastUsedAt: new Date() });
    },

    countDisabled: () => users.countBy({ disabledAt: Not(IsNull()) }),
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
