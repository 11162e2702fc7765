import { createHmac, randomInt } from 'node:crypto';
import type { CredentialsRepository } from '../storage/credentials.repository.js';

export const RECOVERY_CODE_COUNT = 10;
// Crockford-style alphabet: no 0/O, 1/I/L confusion when read off paper.
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const GROUPS = 3;
const GROUP_LENGTH = 4;

/** What a user typed, with case, spaces and dashes ignored. */
function normalizeRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

/**
 * Recovery codes: 12 random characters (about 59 bits) each, shown once, stored as
 * HMAC-SHA256 under a key derived from the key-encryption secret. A keyed hash rather than
 * argon2: the codes are random, not chosen, and a keyed hash lets one lookup find and delete
 * the code atomically; a stolen table alone is no help without the key.
 */
export interface RecoveryCodeService {
  /** Ten new codes; the old ones stop working. Returns the codes to show once. */
  regenerate(userId: string): Promise<string[]>;
  /** Uses a code up; true for exactly one caller. */
  use(userId: string, code: string): Promise<boolean>;
  remaining(userId: string): Promise<number>;
  /** The same service writing through a transaction's repositories (a change commits with its audit event). */
  within(tx: { credentials: CredentialsRepository }): RecoveryCodeService;
}

export function createRecoveryCodeService(deps: {
  credentials: CredentialsRepository;
  hashKey: Buffer;
}): RecoveryCodeService {
  const { credentials, hashKey } = deps;
  const hash = (code: string) => createHmac('sha256', hashKey).update(normalizeRecoveryCode(code)).digest('base64url');

  return {
    async regenerate(userId: string): Promise<string[]> {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () =>
        Array.from({ length: GROUPS }, () =>
          Array.from({ length: GROUP_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''),
        ).join('-'),
      );
      await credentials.replaceRecoveryCodes(userId, codes.map(hash));
      return codes;
    },

    async use(userId: string, code: string): Promise<boolean> {
      const normalized = normalizeRecoveryCode(code);
      if (normalized.length !== GROUPS * GROUP_LENGTH || [...normalized].some((c) => !ALPHABET.includes(c)))
        return false;
      return credentials.consumeRecoveryCode(userId, hash(normalized));
    },

    remaining: (userId: string) => credentials.countRecoveryCodes(userId),

    within: (tx) => createRecoveryCodeService({ ...deps, credentials: tx.credentials }),
  };
}
