import argon2 from 'argon2';
import type { Config } from '../config/schema.js';
import { verifyLegacyPassword } from './legacy-passwords.js';

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

export const MAX_PASSWORD_LENGTH = 256;

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
    hash: (password) => argon2.hash(password, options),
    async verify(hash, password) {
      if (password.length > MAX_PASSWORD_LENGTH) return false;
      if (!hash) {
        await argon2.verify(await dummyHash(), password).catch(() => false);
        return false;
      }
      if (!hash.startsWith('$argon2id$')) return verifyLegacyPassword(hash, password);
      return argon2.verify(hash, password).catch(() => false);
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
