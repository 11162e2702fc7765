import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { openStorage, type OpenedStorage } from '../storage/storage.js';
import { createSecretBox } from '../security/secret-box.js';
import { loadKeyEncryptionSecret } from '../security/key-encryption-secret.js';
import { createPasswordHasher } from '../accounts/passwords.js';
import { createUserAdmin } from '../accounts/user-admin.js';
import { createUserImport } from '../accounts/user-import.js';
import { createClientRegistry } from '../oidc/client-registry.js';
import { createKeyManager } from '../oidc/keys.js';
import { createTotpService } from '../accounts/totp.js';
import { createRecoveryCodeService } from '../accounts/recovery-codes.js';
import { createSecondFactorService } from '../accounts/second-factors.js';
import { createAuditLog } from '../security/audit.js';
import { createSignInThrottle } from '../security/sign-in-throttle.js';
import { deriveKey } from '../security/key-encryption-secret.js';

/** What CLI commands work with; opened per command, closed after it. */
export function openCliContext(env: Record<string, string | undefined>) {
  const config: Config = loadConfig(env);
  return {
    config,
    async with<T>(work: (services: CliServices) => Promise<T>): Promise<T> {
      const opened = await openStorage(config);
      try {
        return await work(buildServices(config, opened));
      } finally {
        await opened.close();
      }
    },
  };
}

function buildServices(config: Config, opened: OpenedStorage) {
  const { storage } = opened;
  const secret = loadKeyEncryptionSecret(config.keys.encryptionSecret, config.storage.dataDir).key;
  const box = createSecretBox(secret);
  const totp = createTotpService({ credentials: storage.credentials, box, issuer: config.mfa.totpIssuer });
  const recovery = createRecoveryCodeService({ credentials: storage.credentials, hashKey: deriveKey(secret, 'recovery-codes') });
  return {
    opened,
    storage,
    users: createUserAdmin({ users: storage.users, oidc: storage.oidc, passwords: createPasswordHasher(config.passwords.argon2), box }),
    userImport: createUserImport({ users: storage.users, box, transaction: storage.transaction }),
    clients: createClientRegistry(storage.clients),
    keys: createKeyManager(storage.signingKeys, box),
    secondFactors: createSecondFactorService({
      credentials: storage.credentials, totp, recovery, audit: createAuditLog(storage.audit),
      throttle: createSignInThrottle(storage.kv, config.signIn, 'second-factor'), transaction: storage.transaction,
    }),
  };
}

export type CliServices = ReturnType<typeof buildServices>;
