import { userInfo } from 'node:os';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { openStorage, type OpenedStorage } from '../storage/storage.js';
import { embeddedDataExists } from '../storage/open-embedded.js';
import { createSecretBox } from '../security/secret-box.js';
import { loadKeyEncryptionSecret } from '../security/key-encryption-secret.js';
import { createTokenDigest, type TokenDigest } from '../security/token-digest.js';
import { createPasswordHasher } from '../accounts/passwords.js';
import { createPasswordPolicy } from '../accounts/password-policy.js';
import { shippedBreachedList } from '../accounts/breached-passwords.js';
import { loadCatalogue } from '../i18n/catalogue.js';
import { createTranslator } from '../i18n/translator.js';
import { DEFAULT_LOCALE } from '../i18n/locale.js';
import { createUserImport } from '../accounts/user-import.js';
import { createKeyManager } from '../oidc/keys.js';
import { createTotpService } from '../accounts/totp.js';
import { createRecoveryCodeService } from '../accounts/recovery-codes.js';
import { createSecondFactorService } from '../accounts/second-factors.js';
import { createAuditLog } from '../security/audit.js';
import { createCounterStore, type CounterStore } from '../security/counters.js';
import { createLockout } from '../security/lockout.js';
import { createMetrics } from '../observability/metrics.js';
import { createLogger } from '../http/logger.js';
import { deriveKey } from '../security/key-encryption-secret.js';
import type Provider from 'oidc-provider';
import { createInitialAccessTokens } from '../oidc/initial-access-tokens.js';
import { createAdminServices } from '../admin/services.js';
import type { AdminActor } from '../admin/actor.js';
import { FieldError } from '../http/errors.js';

/** The CLI was pointed at a data directory without a database, on the embedded default. */
export class NoDataError extends Error {
  constructor(dataDir: string) {
    super(`no Gatehouse data in ${dataDir}; start the server once or set DATA_DIR`);
    this.name = 'NoDataError';
  }
}

export interface CliContextOptions {
  /**
   * Whether the command may create the embedded database (`migrate`). Others refuse a data
   * directory without one, and create nothing there: a mistyped or missing DATA_DIR would
   * otherwise get a new empty database, a generated key-encryption secret, and "(none)".
   */
  mayCreateData?: boolean;
}

/** What CLI commands work with; opened per command, closed after it. */
export function openCliContext(env: Record<string, string | undefined>, options: CliContextOptions = {}) {
  const config: Config = loadConfig(env);
  return {
    config,
    async with<T>(work: (services: CliServices) => Promise<T>): Promise<T> {
      if (!config.storage.databaseUrl && !options.mayCreateData && !embeddedDataExists(config.storage.dataDir)) {
        throw new NoDataError(config.storage.dataDir);
      }
      // Before migrating: stored tokens are re-keyed under their digests (migrations/1765065600000-token-digests.ts).
      const tokenDigest = createTokenDigest(loadKeyEncryptionSecret(config.keys.encryptionSecret, config.storage.dataDir).key);
      const opened = await openStorage(config, { migrate: true, tokenDigest });
      // Admin commands clear lockouts (a second-factor reset), which live in Redis when configured.
      const counters = createCounterStore(config.storage, { log: createLogger('silent'), metrics: createMetrics() });
      try {
        await counters.ready();
        return await work(buildServices(config, opened, counters, tokenDigest));
      } finally {
        await counters.close();
        await opened.close();
      }
    },
  };
}

/** The operator on the host: no user or client; the audit row names the OS account. */
function cliActor(): AdminActor {
  let account = 'unknown';
  try {
    account = userInfo().username;
  } catch {
    // no passwd entry (some containers): the channel is still recorded
  }
  return { userId: null, clientId: null, origin: { userAgent: `gatehouse-cli (${account})` } };
}

function buildServices(config: Config, opened: OpenedStorage, counters: CounterStore, tokenDigest: TokenDigest) {
  const { storage } = opened;
  const secret = loadKeyEncryptionSecret(config.keys.encryptionSecret, config.storage.dataDir).key;
  const box = createSecretBox(secret);
  const audit = createAuditLog(storage.audit);
  const totp = createTotpService({ credentials: storage.credentials, box, issuer: config.mfa.totpIssuer });
  const recovery = createRecoveryCodeService({ credentials: storage.credentials, hashKey: deriveKey(secret, 'recovery-codes') });
  const keys = createKeyManager(storage.signingKeys, box);
  const lockout = createLockout(config.lockout, { counters, metrics: createMetrics() });
  const secondFactors = createSecondFactorService({ credentials: storage.credentials, totp, recovery, audit, lockout, transaction: storage.transaction });
  // Built only when a command creates an initial access token: it needs the signing keys,
  // and oidc-provider is loaded only then (its import prints a runtime warning on Node 20,
  // which would add a line to every other command's output).
  let modelProvider: Provider | undefined;
  const provider = async () => {
    if (!modelProvider) {
      const [{ createAdapter }, { createModelProvider }] = await Promise.all([
        import('../oidc/adapter.js'), import('../oidc/model-provider.js'),
      ]);
      await keys.ensureKeys();
      modelProvider = createModelProvider(config, {
        adapter: createAdapter({ oidc: storage.oidc, digest: tokenDigest, clients: storage.clients }), keys: await keys.load({ activationDelaySeconds: config.keys.activationDelaySeconds }),
      });
    }
    return modelProvider;
  };
  const initialAccessTokens = createInitialAccessTokens({
    provider, oidc: storage.oidc, digest: tokenDigest, transaction: storage.transaction, audit,
    defaultTtlSeconds: config.registration.initialAccessTokenTtlSeconds,
  });
  // The CLI speaks English; the breached list loads only if a command sets a password.
  const policy = createPasswordPolicy({
    settings: config.passwordPolicy, breached: shippedBreachedList, english: createTranslator(loadCatalogue(), DEFAULT_LOCALE).t,
  });
  const admin = createAdminServices({ config, storage, audit, box, passwords: createPasswordHasher(config.passwords.argon2), policy, secondFactors, lockout, initialAccessTokens });
  return {
    opened,
    storage,
    admin,
    actor: cliActor(),
    userImport: createUserImport({ users: storage.users, box, transaction: storage.transaction }),
    keys,
    /** Operators name users by email; the services take ids. */
    async userIdFor(email: string): Promise<string> {
      const user = await storage.users.findByEmail(email);
      if (!user) throw new FieldError('email', `no user with email ${email}`);
      return user.id;
    },
  };
}

export type CliServices = ReturnType<typeof buildServices>;

/** Opens storage, runs one command's work with the services, closes storage. */
export type Runner = <T>(work: (s: CliServices) => Promise<T>) => Promise<T>;
