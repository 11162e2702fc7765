import type { Config } from '../config/schema.js';
import type { Storage } from '../storage/storage.js';
import type { SigningKeyRow } from '../storage/entities/signing-key.entity.js';
import type { AuditLog } from '../security/audit.js';
import type { SecretBox } from '../security/secret-box.js';
import { createKeyManager, retiredKeyTtlSeconds } from '../oidc/keys.js';
import { recordAdminAction, type AdminActor } from '../security/admin-actor.js';

/**
 * Signing keys: what is published, and rotation. New keys are published at once (on this
 * replica now, on the others within keys.reloadIntervalSeconds) and sign
 * keys.activationDelaySeconds after their stored creation time (src/oidc/keys.ts signingOrder);
 * the old ones sign until then, so they stay published that much longer.
 */
export function createKeysAdmin(deps: {
  storage: Storage;
  audit: AuditLog;
  box: SecretBox;
  config: Config;
  onRotated?: () => Promise<unknown>;
}) {
  const { storage, audit, box, config } = deps;
  return {
    /** Signing keys only: cookie keys are secrets with no public part worth listing. */
    list: async (): Promise<SigningKeyRow[]> => (await storage.signingKeys.listAll()).filter((k) => k.use === 'sig'),

    async rotate(actor: AdminActor): Promise<string[]> {
      // Made before the transaction: its start stamps created_at, which activation is timed from.
      const prepared = await createKeyManager(storage.signingKeys, box).prepareRotation();
      const kids = await storage.transaction(async (tx) => {
        const delay = config.keys.activationDelaySeconds;
        const fresh = await createKeyManager(tx.signingKeys, box).rotate(
          prepared,
          retiredKeyTtlSeconds(config.ttl) + delay,
          config.sessions.absoluteLifetimeSeconds + delay,
        );
        await recordAdminAction(audit, tx, actor, 'key.rotated', { details: { kids: fresh } });
        return fresh;
      });
      // This process publishes them at once; others follow within keys.reloadIntervalSeconds.
      await deps.onRotated?.();
      return kids;
    },
  };
}
