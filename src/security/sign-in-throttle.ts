import { createHash } from 'node:crypto';
import type { KeyValueStore } from '../storage/key-value-store.js';

/**
 * Counts failed password attempts per sign-in identifier in the shared store. Past the
 * limit, attempts for that identifier are refused until the window ends, whether the
 * password is right or not, so guessing stops; a success clears the count.
 * Identifiers are hashed so the store holds no email addresses.
 */
export interface SignInThrottle {
  isBlocked(identifier: string): Promise<boolean>;
  /** Counts a failure; true when this one reached the limit (the lockout starts now). */
  recordFailure(identifier: string): Promise<boolean>;
  reset(identifier: string): Promise<void>;
}

export function createSignInThrottle(
  kv: KeyValueStore,
  limits: { maxFailedAttempts: number; failureWindowSeconds: number },
  /** Separate counters per kind of secret: password failures and second-factor failures. */
  namespace: 'password' | 'second-factor' = 'password',
): SignInThrottle {
  const key = (identifier: string) =>
    `signin-failures:${namespace}:` + createHash('sha256').update(identifier.trim().toLowerCase()).digest('base64url');
  return {
    async isBlocked(identifier) {
      const count = Number((await kv.get(key(identifier))) ?? 0);
      return count >= limits.maxFailedAttempts;
    },
    async recordFailure(identifier) {
      return (await kv.increment(key(identifier), limits.failureWindowSeconds)) === limits.maxFailedAttempts;
    },
    async reset(identifier) {
      await kv.delete(key(identifier));
    },
  };
}
