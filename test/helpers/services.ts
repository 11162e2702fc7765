import { join } from 'node:path';
import type { Config, ConfigOverrides } from '../../src/config/schema.js';
import { createMailer } from '../../src/mail/mailer.js';
import { createViewRenderer } from '../../src/http/views.js';
import type { Sleep } from '../../src/delivery/retry.js';
import { createLogger } from '../../src/http/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { openResources, type Resources } from '../../src/resources.js';
import { createServices, type Services } from '../../src/services.js';
import { providerOnDemand } from '../../src/oidc/provider-access.js';
import { createClientRegistry } from '../../src/clients/client-registry.js';
import { createTranslator, createTranslators } from '../../src/i18n/translator.js';
import { loadCatalogue } from '../../src/i18n/catalogue.js';
import { DEFAULT_LOCALE } from '../../src/i18n/locale.js';
import type { Storage } from '../../src/storage/storage.js';
import { BOOT_TIMEOUT, HTTP_BACKENDS, type Backend } from './backends.js';
import { smallBreachedList } from './breached-list.js';
import { createFactories, type Factories } from './factories.js';
import { lateBound } from './late-bound.js';
import { freshStoreConfig } from './storage.js';

/** The real services over a real store, with no HTTP server in front (test/services/). */
export interface TestServices extends Factories {
  services: Services;
  storage: Storage;
  config: Config;
}

/** What a service test may give the services beyond config. */
export interface ServiceExtras {
  /** Now, for the services that take a clock (codes and sign-in links): a TestClock's `now`. */
  clock?: () => number;
  /**
   * Codes go out as the server sends them, with nothing configured: mail to the outbox
   * (dataDir/outbox, .eml) and SMS by sms.transport (the outbox by default, dataDir/outbox/sms).
   * Without it, every send fails (as in the CLI).
   */
  delivery?: boolean;
  /** Waits between webhook or Twilio attempts (default: real waits). */
  sleep?: Sleep;
}

/**
 * The service tier's header: opens a fresh store (PostgreSQL + Redis by default, the first
 * of HTTP_BACKENDS) with the resources the server and the CLI open (resources.ts: the
 * key-encryption secret, storage, counters), builds every service with createServices as they
 * do, and closes it all in `afterAll`. The small breached list; the provider only on demand,
 * as the CLI builds it. createServices takes no clock: the services read real time.
 */
export function useServices(
  overrides: ConfigOverrides = {},
  backend: Backend = HTTP_BACKENDS[0] ?? 'postgres',
  extras: ServiceExtras = {},
): TestServices {
  const opened = lateBound<TestServices & { close(): Promise<void> }>('useServices: the services');
  beforeAll(async () => {
    const store = await freshStoreConfig(backend, overrides);
    let resources: Resources | undefined;
    try {
      const { config } = store;
      resources = await openResources(config, { log: createLogger('silent'), metrics: createMetrics() });
      const {
        opened: { storage },
        tokenDigest,
      } = resources;
      const catalogue = loadCatalogue();
      const english = createTranslator(catalogue, DEFAULT_LOCALE);
      const log = createLogger('silent');
      const delivery = extras.delivery
        ? {
            mailer: createMailer({
              ...config.mail,
              outboxDir: join(config.storage.dataDir, 'outbox'),
              views: createViewRenderer({ brand: config.branding, cache: true, english, basePath: '' }),
              log,
            }),
            log,
            translatorFor: createTranslators(catalogue),
            sleep: extras.sleep,
          }
        : undefined;
      const services = createServices(config, resources, {
        breached: () => Promise.resolve(smallBreachedList()),
        english: english.t,
        provider: (keys) => providerOnDemand(config, { storage, keys, tokenDigest }),
        delivery,
        clock: extras.clock,
      });
      const factories = createFactories({
        users: services.admin.users,
        clients: createClientRegistry(storage.clients),
      });
      const owned = resources;
      opened.set({
        ...factories,
        services,
        storage,
        config,
        close: async () => {
          await services.codeDelivery.settled();
          await owned.close();
          await store.dispose();
        },
      });
    } catch (error) {
      await resources?.close();
      await store.dispose();
      throw error;
    }
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await opened.take()?.close();
  });
  return opened.handle;
}
