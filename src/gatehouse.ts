import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type Koa from 'koa';
import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { issuerBasePath } from './config/issuer.js';
import type { OpenedStorage } from './storage/storage.js';
import type { EmbeddedPostgres } from './storage/embedded-postgres.js';
import { startPurgeTimer } from './storage/purge-timer.js';
import { openResources, type Resources } from './resources.js';
import { createServices } from './services.js';
import { startProvider, type StartedProvider } from './start-provider.js';
import { createApp } from './app.js';
import { createViewRenderer, type ViewRenderer } from './http/views.js';
import { loadCatalogue } from './i18n/catalogue.js';
import { createTranslators } from './i18n/translator.js';
import { DEFAULT_LOCALE } from './i18n/locale.js';
import type { KeyEncryptionSecret } from './security/key-encryption-secret.js';
import type { Lockout } from './security/lockout.js';
import type { RateLimits } from './security/rate-limits.js';
import type { TokenDigest } from './security/token-digest.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { createMetricsServer } from './observability/metrics-endpoint.js';
import { poolUsageOf } from './storage/pool-usage.js';
import { createDraining, type Draining } from './http/draining.js';
import { drainServer, listenOn } from './http/listeners.js';
import { shippedBreachedList, type BreachedPasswordList } from './accounts/breached-passwords.js';
import type { SessionsEnded } from './accounts/user-sessions.js';
import { providerOnceStarted } from './oidc/provider-access.js';
import type { ProviderHost } from './oidc/provider.js';
import type { InitialAccessTokens } from './oidc/initial-access-tokens.js';
import { providerPages } from './oidc/provider-pages.js';
import type { SigningKeyPairs } from './oidc/keys.js';
import { devicePages } from './web/device/pages.js';
import { ensureAccountClient } from './web/account/account-client.js';
import { ensureAdminConsole } from './admin/console-client.js';
import type { AdminServices } from './admin/services.js';
import { createMailer, type Mailer } from './mail/mailer.js';

export interface Gatehouse {
  config: Config;
  app: Koa;
  host: ProviderHost;
  storage: OpenedStorage;
  keyEncryption: KeyEncryptionSecret;
  /** Where each bearer token's row is (tests look rows up by the tokens they hold). */
  tokenDigest: TokenDigest;
  keysCreated: boolean;
  /** Dynamic client registration administration (RFC 7591): initial access tokens (approvals: admin.clients). */
  registration: { initialAccessTokens: InitialAccessTokens };
  /** The admin services (the API and console use them; tests build fixtures with them). */
  admin: AdminServices;
  /** Account mail (SMTP, or the outbox directory in the embedded default). */
  mailer: Mailer;
  /** The Prometheus registry and its series (served at /metrics when metrics.enabled). */
  metrics: Metrics;
  /** Rate limits: routes call `limits.consume(ctx, policy, key)` (docs/abuse-protection.md). */
  limits: RateLimits;
  lockout: Lockout;
  /**
   * "These sessions ended": tells every client that took part in them (OIDC Back-Channel
   * Logout 1.0), retried and recorded. Call it after the transaction that ended them commits,
   * with what `tx.sessions.endSession` / `endOtherSessions` / `signOutEverywhere` returned.
   */
  sessionsEnded: SessionsEnded;
  /** Waits for back-channel logout deliveries in flight (tests, shutdown). */
  backchannelSettled(): Promise<void>;
  /** Writes the token requests counted per client now instead of at the next five-minute mark (tests). */
  tokenRequestsFlushed(): Promise<void>;
  /** Waits for code messages (email, SMS) in flight (tests read the outbox after it). */
  codeDeliveriesSettled(): Promise<void>;
  /** Starts listening (and the metrics listener, when it has a port of its own); resolves with the main port. */
  listen(): Promise<number>;
  /** The metrics listener's bound port, once listening; null when it has none. */
  metricsPort(): number | null;
  /**
   * Stops accepting, marks /readyz unavailable, lets in-flight requests finish within
   * `graceMs` (default: shutdown.graceSeconds; then their connections are closed), closes pools.
   */
  close(graceMs?: number): Promise<void>;
}

/** What the caller may supply instead of the defaults. */
export interface GatehouseDeps {
  /** An embedded database already starting (main.ts starts it before the config is complete). */
  embedded?: Promise<EmbeddedPostgres>;
  /**
   * The breached-password list (default: the shipped one, loaded in the background). Tests pass
   * a small list: hashing the shipped 415k entries costs about a second of CPU in every jest file.
   */
  breachedList?: BreachedPasswordList;
  /**
   * Now, in epoch milliseconds (default Date.now), for the rules this process times itself:
   * how recent a sign-in must be on /account, when codes and sign-in links expire. Tests move it forward instead of sleeping.
   * Expiries kept by PostgreSQL, Redis and oidc-provider follow their own clocks.
   */
  clock?: () => number;
  /**
   * Where new signing key pairs come from (default: generated). Tests hand out RSA keys made
   * beforehand: each of ~200 test servers made one at its first boot, ~0.1–0.25 s of CPU.
   */
  signingKeyPairs?: SigningKeyPairs;
}

/** Opens storage and keys and builds the app; main.ts and the tests both start here. */
export async function createGatehouse(config: Config, log: Logger, early: GatehouseDeps = {}): Promise<Gatehouse> {
  const metrics = createMetrics({ processMetrics: config.metrics.enabled });
  const resources = await openResources(config, { log, metrics, embedded: early.embedded, keepRows: true });
  const { storage } = resources.opened;
  metrics.observePool(poolUsageOf(storage.dataSource));
  try {
    const translatorFor = createTranslators(loadCatalogue());
    const english = translatorFor(DEFAULT_LOCALE);
    const started = providerOnceStarted();
    const views = createViewRenderer({
      brand: config.branding,
      cache: true,
      english,
      basePath: issuerBasePath(config.issuer),
    });
    const mailer = openMailer(config, views, log);
    const services = createServices(config, resources, {
      breached: breachedListFor(early.breachedList, log),
      english: english.t,
      provider: () => started,
      delivery: { mailer, log, translatorFor },
      clock: early.clock,
      signingKeyPairs: early.signingKeyPairs,
    });
    if (services.codeDelivery.transports.sms === 'outbox' && config.sms.enabled)
      log.warn(
        'sms.transport is outbox: SMS codes are written to the outbox directory in the data directory, not sent',
      );
    const keysCreated = await services.keys.ensureKeys();
    await ensureAccountClient(storage.clients, config.issuer, config.branding.productName);
    await ensureAdminConsole(storage, config.issuer, config.admin.consoleMfa);
    const provider = await startProvider(config, resources, services, {
      log,
      pages: providerPages(views, english),
      devicePages: devicePages(views, english),
    });
    started.start(provider.host);
    const draining = createDraining();
    const app = createApp({
      config,
      log,
      storage,
      host: provider.host,
      clientReads: provider.clientReads,
      views,
      translatorFor,
      metrics,
      draining,
      services,
      mailer,
      clock: early.clock ?? Date.now,
    });
    // PGlite runs no autovacuum (purge-timer.ts).
    const purge = startPurgeTimer(storage, config, log, { vacuum: resources.opened.backend === 'embedded' });
    return {
      config,
      app,
      host: provider.host,
      storage: resources.opened,
      keyEncryption: resources.keyEncryption,
      tokenDigest: resources.tokenDigest,
      keysCreated,
      admin: services.admin,
      registration: { initialAccessTokens: services.initialAccessTokens },
      mailer,
      metrics,
      limits: services.limits,
      lockout: services.lockout,
      sessionsEnded: services.sessionsEnded,
      backchannelSettled: () => provider.backchannel.settled(),
      tokenRequestsFlushed: () => provider.tokenRequests.flush(),
      codeDeliveriesSettled: () => services.codeDelivery.settled(),
      ...lifecycle(config, log, {
        app,
        draining,
        provider,
        mailer,
        resources,
        stopPurge: purge.stop,
        codesSettled: () => services.codeDelivery.settled(),
      }),
    };
  } catch (error) {
    await resources.close();
    throw error;
  }
}

/** SMTP when SMTP_URL is set; otherwise the outbox directory in the data directory (the embedded default). */
function openMailer(config: Config, views: ViewRenderer, log: Logger): Mailer {
  const mailer = createMailer({ ...config.mail, outboxDir: join(config.storage.dataDir, 'outbox'), views, log });
  if (mailer.kind === 'outbox')
    log.warn('SMTP_URL is not set: account mail is written to the outbox directory in the data directory, not sent');
  return mailer;
}

/** Listening, and the shutdown order: stop taking work, drain requests and deliveries, close resources last. */
function lifecycle(
  config: Config,
  log: Logger,
  parts: {
    app: Koa;
    draining: Draining;
    provider: StartedProvider;
    mailer: Mailer;
    resources: Resources;
    stopPurge: () => void;
    /** Codes being sent (mail, SMS): each is bounded by its transport's timeouts and retries. */
    codesSettled: () => Promise<void>;
  },
): Pick<Gatehouse, 'listen' | 'metricsPort' | 'close'> {
  const { app, draining, provider, mailer, resources } = parts;
  let server: Server | undefined;
  const metricsServer =
    config.metrics.enabled && config.metrics.port !== 0 ? createMetricsServer(resources.metrics.registry) : undefined;
  let boundMetricsPort: number | null = null;
  return {
    async listen() {
      server = createServer(app.callback());
      const port = await listenOn(server, config.http.port, config.http.host);
      if (metricsServer) boundMetricsPort = await listenOn(metricsServer, config.metrics.port, config.http.host);
      return port;
    },
    metricsPort: () => boundMetricsPort,
    async close(graceMs = config.shutdown.graceSeconds * 1000) {
      draining.start();
      parts.stopPurge();
      provider.host.stop();
      provider.backchannel.stop();
      if (server) await drainServer(server, graceMs, log);
      // Scraped until the main listener has drained, so the last requests are counted.
      if (metricsServer?.listening) await drainServer(metricsServer, 1000, log);
      // Deliveries in flight finish (each is bounded by the library's request timeout);
      // retries not yet due are dropped with the process (docs/sessions.md).
      await provider.backchannel.settled();
      await parts.codesSettled();
      // The token counts since the last write, while the database is still open.
      await provider.tokenRequests.stop();
      mailer.close();
      await resources.close();
    },
  };
}

/** The given list, or the shipped one, loaded in the background (~0.2 s, 3.3 MB): boot does not wait; a check before it is ready does. */
function breachedListFor(given: BreachedPasswordList | undefined, log: Logger): () => Promise<BreachedPasswordList> {
  if (given) return () => Promise.resolve(given);
  const breachedLoad = Date.now();
  shippedBreachedList().then(
    (list) => log.debug({ entries: list.size, ms: Date.now() - breachedLoad }, 'breached-password list loaded'),
    (err: unknown) =>
      log.error({ err }, 'breached-password list failed to load: setting a password fails until it loads'),
  );
  return shippedBreachedList;
}
