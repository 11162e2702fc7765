import type { KeyValueStore } from '../storage/key-value-store.js';
import type { SecretBox } from '../security/secret-box.js';

const TTL_SECONDS = 600;
const CONTEXT = 'kv:totp-enrolment';

/**
 * A TOTP secret shown to the user but not yet confirmed, kept sealed in the shared store
 * for ten minutes and bound to what shows it (a sign-in interaction, an account session).
 */
export function createPendingTotp(kv: KeyValueStore, box: SecretBox) {
  const key = (binding: string) => `totp-enrolment:${binding}`;
  return {
    async put(binding: string, secret: string): Promise<void> {
      await kv.set(key(binding), box.seal(secret, CONTEXT), TTL_SECONDS);
    },
    async peek(binding: string): Promise<string | undefined> {
      const sealed = await kv.get(key(binding));
      return sealed ? box.open(sealed, CONTEXT) : undefined;
    },
    /** Removes and returns it: of two submissions of one page (a double click) only one gets it. */
    async take(binding: string): Promise<string | undefined> {
      const sealed = await kv.take(key(binding));
      return sealed ? box.open(sealed, CONTEXT) : undefined;
    },
  };
}
