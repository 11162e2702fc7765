import { userInfo } from 'node:os';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { embeddedDataExists } from '../storage/open-embedded.js';
import { shippedBreachedList, type BreachedPasswordList } from '../accounts/breached-passwords.js';
import { loadCatalogue } from '../i18n/catalogue.js';
import { createTranslator } from '../i18n/translator.js';
import { DEFAULT_LOCALE } from '../i18n/locale.js';
import { createMetrics } from '../observability/metrics.js';
import { createLogger } from '../http/logger.js';
import { openResources, type Resources } from '../resources.js';
import { createServices, type ServiceOptions } from '../services.js';
import { providerOnDemand } from '../oidc/provider-access.js';
import type { AdminActor } from '../security/admin-actor.js';
import { InvalidInputError } from '../errors/domain-errors.js';

/** The CLI was pointed at a data directory without a database, on the embedded default. */
class NoDataError extends Error {
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
  /**
   * The breached-password list (default: the shipped one, loaded only when a command sets a
   * password). Tests pass a small list, as they do to createGatehouse.
   */
  breachedList?: BreachedPasswordList;
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
      // Admin commands clear lockouts (a second-factor reset), which live in Redis when configured.
      const resources = await openResources(config, { log: createLogger('silent'), metrics: createMetrics() });
      try {
        return await work(buildServices(config, resources, options));
      } finally {
        await resources.close();
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

function buildServices(config: Config, resources: Resources, options: CliContextOptions) {
  const { opened } = resources;
  const { storage } = opened;
  const { breachedList } = options;
  const breached: ServiceOptions['breached'] = breachedList ? () => Promise.resolve(breachedList) : shippedBreachedList;
  // The CLI speaks English. oidc-provider is loaded only by a command that needs it (provider-access.ts).
  const services = createServices(config, resources, {
    breached,
    english: createTranslator(loadCatalogue(), DEFAULT_LOCALE).t,
    provider: (keys) => providerOnDemand(config, { storage, keys, tokenDigest: resources.tokenDigest }),
  });
  return {
    opened,
    storage,
    admin: services.admin,
    actor: cliActor(),
    userImport: services.userImport,
    keys: services.keys,
    /** Operators name users by email; the services take ids. */
    async userIdFor(email: string): Promise<string> {
      const user = await storage.users.findByEmail(email);
      if (!user) throw new InvalidInputError('email', `no user with email ${email}`);
      return user.id;
    },
  };
}

export type CliServices = ReturnType<typeof buildServices>;

/** Opens storage, runs one command's work with the services, closes storage. */
export type Runner = <T>(work: (s: CliServices) => Promise<T>) => Promise<T>;
