import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { openStorage, type OpenedStorage } from './storage/storage.js';
import type { EmbeddedPostgres } from './storage/embedded-postgres.js';
import { loadKeyEncryptionSecret, type KeyEncryptionSecret } from './security/key-encryption-secret.js';
import { createSecretBox, type SecretBox } from './security/secret-box.js';
import { createTokenDigest, type TokenDigest } from './security/token-digest.js';
import { createCounterStore, type CounterStore } from './security/counters.js';
import type { Metrics } from './observability/metrics.js';

/** What the server and the CLI open before any service: the key-encryption secret, storage, the counters. */
export interface Resources {
  keyEncryption: KeyEncryptionSecret;
  /** Seals secrets at rest (TOTP seeds, signing keys, client secrets waiting to be shown). */
  box: SecretBox;
  /** Where each bearer token's row is. */
  tokenDigest: TokenDigest;
  opened: OpenedStorage;
  /** Rate limits and lockouts (Redis with an in-process fallback). */
  counters: CounterStore;
  metrics: Metrics;
  close(): Promise<void>;
}

export async function openResources(
  config: Config,
  deps: { log: Logger; metrics: Metrics; embedded?: Promise<EmbeddedPostgres>; keepRows?: boolean },
): Promise<Resources> {
  const keyEncryption = loadKeyEncryptionSecret(config.keys.encryptionSecret, config.storage.dataDir);
  const tokenDigest = createTokenDigest(keyEncryption.key);
  // Digest before migrating: stored tokens are re-keyed under their digests (migrations/1765065600000-token-digests.ts).
  const opened = await openStorage(config, {
    migrate: true,
    embedded: deps.embedded,
    tokenDigest,
    keepRows: deps.keepRows,
  });
  const counters = createCounterStore(config.storage, { log: deps.log, metrics: deps.metrics });
  const close = async () => {
    await counters.close();
    await opened.close();
  };
  try {
    await counters.ready();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    keyEncryption,
    box: createSecretBox(keyEncryption.key),
    tokenDigest,
    opened,
    counters,
    metrics: deps.metrics,
    close,
  };
}
