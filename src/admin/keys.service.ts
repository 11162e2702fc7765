import type { Config } from '../config/schema.js';
import type { Storage } from '../storage/storage.js';
import type { SigningKeyRow } from '../storage/entities/signing-key.entity.js';
import type { AuditLog } from '../security/audit.js';
import type { SecretBox } from '../security/secret-box.js';
import { createKeyManager, retiredKeyTtlSeconds } from '../oidc/keys.js';
import { recordAdminAction, type AdminActor } from './actor.js';

/** Signing keys: what is published, and rotation (the new keys sign at once on this replica). */
export function createKeysAdmin(deps: { storage: Storage; audit: AuditLog; box: SecretBox; config: Config; onRotated?: () => Promise<unknown> }) {
  const { storage, audit, box, config } = deps;
  return {
    /** Signing keys only: cookie keys are secrets with no public part worth listing. */
    list: async (): Promise<SigningKeyRow[]> => (await storage.signingKeys.listAll()).filter((k) => k.use === 'sig'),

    async rotate(actor: AdminActor): Promise<string[]> {
      const kids = await storage.transaction(async (tx) => {
        const fresh = await createKeyManager(tx.signingKeys, box).rotate(retiredKeyTtlSeconds(config.ttl), config.sessions.absoluteLifetimeSeconds);
        await recordAdminAction(audit, tx, actor, 'key.rotated', { details: { kids: fresh } });
        return fresh;
      });
      // This process signs with them at once; others follow within keys.reloadIntervalSeconds.
      await deps.onRotated?.();
      return kids;
    },
  };
}

export type KeysAdmin = ReturnType<typeof createKeysAdmin>;
