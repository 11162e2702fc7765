import type { UsersRepository } from '../storage/users.repository.js';
import type { OidcPayloadRepository } from '../storage/oidc-payload.repository.js';
import type { UserRow } from '../storage/entities/user.entity.js';
import type { SecretBox } from '../security/secret-box.js';
import { MAX_PASSWORD_LENGTH, type PasswordHasher } from './passwords.js';
import { TOTP_SECRET_CONTEXT } from './totp.js';

export const MIN_PASSWORD_LENGTH = 12;

export class UserInputError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'UserInputError';
  }
}

// Deliberately loose (one @, a dot in the domain, no spaces): the mailbox is the judge.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const BASE32 = /^[A-Z2-7]+=*$/;

export function checkEmail(email: string): string {
  const value = email.trim();
  if (value.length > 320 || !EMAIL.test(value)) throw new UserInputError('email', `"${email}" is not an email address`);
  return value;
}

/** Length rules per NIST SP 800-63B; the breached-password list arrives with account lifecycle work. */
export function checkPassword(password: string): string {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new UserInputError('password', `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) throw new UserInputError('password', `must be at most ${MAX_PASSWORD_LENGTH} characters`);
  return password;
}

export function checkTotpSecret(secret: string): string {
  const value = secret.replace(/\s+/g, '').toUpperCase();
  // RFC 4226 §4 wants at least 128 bits; 80-bit (16-character) secrets are still common in exports.
  if (!BASE32.test(value) || value.replace(/=+$/, '').length < 16) {
    throw new UserInputError('totp-secret', 'must be a base32 secret of at least 16 characters');
  }
  return value;
}

/** Creating and changing users: the rules shared by the CLI and, later, the admin API. */
export function createUserAdmin(deps: { users: UsersRepository; oidc: OidcPayloadRepository; passwords: PasswordHasher; box: SecretBox }) {
  const { users, oidc, passwords, box } = deps;
  const findOrFail = async (email: string) => {
    const user = await users.findByEmail(email);
    if (!user) throw new UserInputError('email', `no user with email ${email}`);
    return user;
  };
  return {
    async create(input: { email: string; password: string | null; name: string | null; totpSecret: string | null }): Promise<UserRow> {
      const email = checkEmail(input.email);
      const passwordHash = input.password === null ? null : await passwords.hash(checkPassword(input.password));
      const totp = input.totpSecret === null ? null : box.seal(checkTotpSecret(input.totpSecret), TOTP_SECRET_CONTEXT);
      const name = input.name?.trim() || null;
      if (name && name.length > 200) throw new UserInputError('name', 'must be at most 200 characters');
      return users.create({ email, name, emailVerified: false, passwordHash, totpSecretEncrypted: totp });
    },
    list: () => users.list({ includeDisabled: true }),
    async setDisabled(email: string, disabled: boolean): Promise<UserRow> {
      const user = await findOrFail(email);
      await users.setDisabled(user.id, disabled);
      // A disabled user loses every session, grant and token at once (ASVS 5 7.4.2).
      if (disabled) await oidc.revokeAccount(user.id);
      return user;
    },
    async setPassword(email: string, password: string): Promise<void> {
      const user = await findOrFail(email);
      await users.setPasswordHash(user.id, await passwords.hash(checkPassword(password)));
    },
    findByEmail: findOrFail,
  };
}

export type UserAdmin = ReturnType<typeof createUserAdmin>;
