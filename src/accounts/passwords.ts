import argon2 from 'argon2';
import type { Config } from '../config/schema.js';
import { verifyLegacyPassword } from './legacy-passwords.js';
import { normalizePassword } from './password-policy.js';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Verifies against a stored hash: ours (argon2id) or an imported one (legacy-passwords.ts).
   * With no hash, spends one argon2id verification and returns false.
   */
  verify(hash: string | null, password: string): Promise<boolean>;
  /** True for any hash that is not argon2id with the configured parameters (imported ones included). */
  needsRehash(hash: string): boolean;
}

/**
 * The longest input looked at, in UTF-16 code units: a guard against hashing huge bodies, far
 * above what the policy lets anyone set (passwordPolicy.maxLength ≤ 1024 code points).
 */
const MAX_PASSWORD_INPUT = 4096;

/**
 * The forms a typed password is tried in. Hashes are made of the NFKC form (NIST SP 800-63B
 * §5.1.1.2); hashes made before that (and imported ones) are of the password as typed, so a
 * password that NFKC changes is also tried as typed. ASCII never changes: one form, one try.
 */
function candidates(password: string): string[] {
  const normalized = normalizePassword(password);
  return normalized === password ? [password] : [normalized, password];
}

export function createPasswordHasher(settings: Config['passwords']['argon2']): PasswordHasher {
  const options = {
    // argon2.argon2id is declared as number; the options type wants its literal (2).
    type: argon2.argon2id as 2,
    raw: false as const,
    memoryCost: settings.memoryKiB,
    timeCost: settings.timeCost,
    parallelism: settings.parallelism,
  };
  // Verified when the account or its password is unknown, so that a wrong email costs
  // what a wrong password costs (no account enumeration by timing).
  let dummy: Promise<string> | undefined;
  const dummyHash = () => (dummy ??= argon2.hash('gatehouse-timing-equaliser', options));

  return {
    hash: (password) => argon2.hash(normalizePassword(password), options),
    async verify(hash, password) {
      if (password.length > MAX_PASSWORD_INPUT) return false;
      // A wrong password costs as many verifications with or without an account (one per form).
      for (const candidate of candidates(password)) {
        if (!hash) await argon2.verify(await dummyHash(), candidate).catch(() => false);
        else if (
          hash.startsWith('$argon2id$')
            ? await argon2.verify(hash, candidate).catch(() => false)
            : await verifyLegacyPassword(hash, candidate)
        )
          return true;
      }
      return false;
    },
    needsRehash(hash) {
      // argon2.needsRehash compares the parameters only, not the variant: argon2i is rehashed here.
      if (!hash.startsWith('$argon2id$')) return true;
      try {
        return argon2.needsRehash(hash, options);
      } catch {
        return true;
      }
    },
  };
}
