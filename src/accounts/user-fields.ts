import type { NewUser } from '../storage/users.repository.js';
import type { SecretBox } from '../security/secret-box.js';
import type { PasswordHasher } from './passwords.js';
import type { PasswordPolicy } from './password-policy.js';
import { TOTP_SECRET_CONTEXT } from './totp.js';
import { InvalidInputError } from '../errors/domain-errors.js';

// Deliberately loose (one @, a dot in the domain, no spaces): the mailbox is the judge.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const BASE32 = /^[A-Z2-7]+=*$/;

export function checkEmail(email: string): string {
  const value = email.trim();
  if (value.length > 320 || !EMAIL.test(value))
    throw new InvalidInputError('email', `"${email}" is not an email address`);
  return value;
}

export function checkTotpSecret(secret: string): string {
  const value = secret.replace(/\s+/g, '').toUpperCase();
  // RFC 4226 §4 wants at least 128 bits; 80-bit (16-character) secrets are still common in exports.
  if (!BASE32.test(value) || value.replace(/=+$/, '').length < 16) {
    throw new InvalidInputError('totp_secret', 'must be a base32 secret of at least 16 characters');
  }
  return value;
}

export interface NewUserFields {
  email: string;
  name?: string | null;
  password?: string | null;
  emailVerified?: boolean;
  totpSecret?: string | null;
}

/** A display name: trimmed, empty means none, at most 200 characters. */
export function checkName(name: string | null | undefined): string | null {
  const value = name?.trim() || null;
  if (value && value.length > 200) throw new InvalidInputError('name', 'must be at most 200 characters');
  return value;
}

/**
 * A new user's row as storage takes it, after every rule: email, name, password policy
 * (password-policy.ts; hashed here), TOTP secret (sealed here). Hashing is slow, so callers run it before opening a transaction.
 */
export async function prepareNewUser(
  input: NewUserFields,
  passwords: PasswordHasher,
  policy: PasswordPolicy,
  box: SecretBox,
): Promise<NewUser> {
  const email = checkEmail(input.email);
  const name = checkName(input.name);
  const passwordHash = input.password ? await passwords.hash(await policy.enforce(input.password, { email })) : null;
  const totpSecretEncrypted = input.totpSecret
    ? box.seal(checkTotpSecret(input.totpSecret), TOTP_SECRET_CONTEXT)
    : null;
  return { email, name, emailVerified: input.emailVerified ?? false, passwordHash, totpSecretEncrypted };
}
