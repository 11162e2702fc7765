import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey } from './key-encryption-secret.js';

/**
 * Pairwise subject identifiers (OIDC Core §8.1): one `sub` per user and sector, which two
 * sectors cannot correlate and which only Gatehouse can map back to the user.
 *
 * The identifier is the account id encrypted deterministically (a synthetic IV, as in
 * RFC 5297's SIV construction): AES-256-GCM under a key derived from the key-encryption
 * secret, with IV = HMAC(sector ‖ account id) and the sector as associated data. The same user
 * and sector always give the same value (stable across restarts and replicas), two sectors give
 * unrelated values, and the admin API maps one back with a decryption instead of a search over
 * every user (docs/decisions.md, "Pairwise subjects").
 */
export interface PairwiseSubjects {
  subjectFor(accountId: string, sector: string): string;
  /** The account id a pairwise `sub` of this sector names, or undefined when it is not one of ours. */
  accountOf(sub: string, sector: string): string | undefined;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function createPairwiseSubjects(secret: Buffer): PairwiseSubjects {
  const encryptionKey = deriveKey(secret, 'pairwise-subject encryption');
  const ivKey = deriveKey(secret, 'pairwise-subject iv');
  const ivOf = (accountId: string, sector: string): Buffer =>
    createHmac('sha256', ivKey).update(`${sector}\u0000${accountId}`).digest().subarray(0, IV_BYTES);

  return {
    subjectFor(accountId, sector) {
      const iv = ivOf(accountId, sector);
      const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
      cipher.setAAD(Buffer.from(sector, 'utf8'));
      const body = Buffer.concat([cipher.update(accountId, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    accountOf(sub, sector) {
      const raw = Buffer.from(sub, 'base64url');
      if (raw.length <= IV_BYTES + TAG_BYTES || raw.toString('base64url') !== sub) return undefined;
      const iv = raw.subarray(0, IV_BYTES);
      try {
        const decipher = createDecipheriv('aes-256-gcm', encryptionKey, iv);
        decipher.setAAD(Buffer.from(sector, 'utf8'));
        decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
        const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
        const accountId = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
        // The IV is a function of the plaintext: one that is not was never issued by us.
        return timingSafeEqual(ivOf(accountId, sector), iv) ? accountId : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
