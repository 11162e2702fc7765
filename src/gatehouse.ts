import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type Koa from 'koa';
import type { Logger } from 'pino';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from './config/schema.js';
import { openStorage, type OpenedStorage } from './storage/storage.js';
import type { EmbeddedPostgres } from './storage/embedded-postgres.js';
import { createApp } from './app.js';
import { createViewRenderer } from './http/views.js';
import { loadCatalogue } from './i18n/catalogue.js';
import { createTranslators } from './i18n/translator.js';
import { DEFAULT_LOCALE } from './i18n/locale.js';
import { createSecretBox } from './security/secret-box.js';
import { loadKeyEncryptionSecret, type KeyEncryptionSecret } from './security/key-encryption-secret.js';
import { createCsrf } from './security/csrf.js';
import { createCounterStore } from './security/counters.js';
import { createLockout, type Lockout } from './security/lockout.js';
import { createRateLimits, type RateLimits } from './security/rate-limits.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { countSecurityEvents } from './observability/security-event-metrics.js';
import { attachProviderMetrics } from './observability/provider-metrics.js';
import { createMetricsServer } from './observability/metrics-endpoint.js';
import { poolUsageOf } from './storage/pool-usage.js';
import { createDraining } from './http/draining.js';
import { drainServer, listenOn } from './http/listeners.js';
import { createPasswordHasher } from './accounts/passwords.js';
import { createPasswordPolicy } from './accounts/password-policy.js';
import { shippedBreachedList, type BreachedPasswordList } from './accounts/breached-passwords.js';
import { createAccountService } from './accounts/account-service.js';
import { createPasswordReset } from './accounts/password-reset.js';
import { createKeyManager } from './oidc/keys.js';
import { createAdapter } from './oidc/adapter.js';
import { createFindAccount } from './oidc/account.js';
import { buildProviderOptions } from './oidc/options.js';
import { createAllowedApplications } from './accounts/allowed-applications.js';
import { createProviderHost, type ProviderHost } from './oidc/provider.js';
import { createTotpService } from './accounts/totp.js';
import { createRecoveryCodeService } from './accounts/recovery-codes.js';
import { createPendingTotp } from './accounts/pending-totp.js';
import { createSecondFactorService } from './accounts/second-factors.js';
import { createWebAuthnService } from './accounts/webauthn.js';
import { createAuditLog } from './security/audit.js';
import { deriveKey } from './security/key-encryption-secret.js';
import { createTokenDigest, type TokenDigest } from './security/token-digest.js';
import { ensureAccountClient } from './portal/account-client.js';
import { createRegisteredClientStore } from './oidc/registered-client-store.js';
import { createRequestClientReads } from './oidc/request-client-reads.js';
import { createInitialAccessTokens, type InitialAccessTokens } from './oidc/initial-access-tokens.js';
import { ensureAdminConsole } from './admin/console-client.js';
import { createAdminServices, type AdminServices } from './admin/services.js';
import { createMailer, type Mailer } from './mail/mailer.js';
import type { Translator } from './i18n/translator.js';
import { explainProtocolError } from './http/error-page.js';
import { createSignUpService } from './accounts/sign-up.js';
import { createEmailAddressService } from './accounts/email-address.js';
import { createAccountMail } from './self-service/account-mail.js';
import { createPublicFormCsrf } from './security/csrf.js';
import type { SelfServiceDeps } from './self-service/context.js';
import { createBackchannelLogout } from './oidc/backchannel-logout.js';
import { attachSessionHandling } from './oidc/session-events.js';
import { logoutPage } from './oidc/logout-hint.js';
import { createUserSessions, type SessionsEnded } from './accounts/user-sessions.js';

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
   * with what `tx.oidc.endSession` / `endOtherSessions` / `signOutEverywhere` returned.
   */
  sessionsEnded: SessionsEnded;
  /** Waits for back-channel logout deliveries in flight (tests, shutdown). */
  backchannelSettled(): Promise<void>;
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
   * how recent a sign-in must be on /account. Tests move it forward instead of sleeping.
   * Expiries kept by PostgreSQL, Redis and oidc-provider follow their own clocks.
   */
  clock?: () => number;
}

/** Opens storage and keys and builds the app; main.ts and the tests both start here. */
export async function createGatehouse(config: Config, log: Logger, early: GatehouseDeps = {}): Promise<Gatehouse> {
  const keyEncryption = loadKeyEncryptionSecret(config.keys.encryptionSecret, config.storage.dataDir);
  const box = createSecretBox(keyEncryption.key);
  const tokenDigest = createTokenDigest(keyEncryption.key);
  const opened = await openStorage(config, { migrate: true, embedded: early.embedded, tokenDigest });
  const { storage } = opened;
  const metrics = createMetrics({ processMetrics: config.metrics.enabled });
  metrics.observePool(poolUsageOf(storage.dataSource));
  const counters = createCounterStore(config.storage, { log, metrics });
  try {
    await counters.ready();
    const keys = createKeyManager(storage.signingKeys, box);
    const keysCreated = await keys.ensureKeys();
    await ensureAccountClient(storage.clients, config.issuer, config.branding.productName);
    await ensureAdminConsole(storage, config.issuer, config.admin.consoleMfa);
    const translatorFor = createTranslators(loadCatalogue());
    const english = translatorFor(DEFAULT_LOCALE);
    const views = createViewRenderer({ brand: config.branding, cache: true, english });
    // The provider's own pages (errors, logout) follow the request's language (src/http/localize.ts).
    const i18nOf = (ctx: KoaContextWithOIDC): Translator => (ctx.state as { i18n?: Translator }).i18n ?? english;
    const mailer = createMailer({ ...config.mail, outboxDir: join(config.storage.dataDir, 'outbox'), views, log });
    if (mailer.kind === 'outbox') log.warn('SMTP_URL is not set: account mail is written to the outbox directory in the data directory, not sent');
    const passwords = createPasswordHasher(config.passwords.argon2);
    const policy = createPasswordPolicy({ settings: config.passwordPolicy, breached: breachedListFor(early.breachedList, log), english: english.t });
    const audit = createAuditLog(storage.audit, countSecurityEvents(metrics));
    const lockout = createLockout(config.lockout, { counters, metrics });
    const limits = createRateLimits(config.rateLimits, { counters, audit, metrics });
    // Back-channel logout for every way a session ends (the one entry point is sessionsEnded);
    // the provider is built below, and deliveries use the current one (keys rotate).
    let providerHost: ProviderHost | undefined;
    const backchannel = createBackchannelLogout({
      provider: () => { if (!providerHost) throw new Error('provider not started'); return providerHost.current; },
      audit, log, settings: config.sessions.backchannelLogout,
    });
    const sessionsEnded: SessionsEnded = (sessions) => backchannel.sessionsEnded(sessions);
    const userSessions = createUserSessions({ storage, audit, sessionsEnded });

    const accounts = createAccountService({ users: storage.users, passwords, policy, lockout, audit, transaction: storage.transaction });
    const csrf = createCsrf(deriveKey(keyEncryption.key, 'csrf'));
    const totp = createTotpService({ credentials: storage.credentials, box, issuer: config.mfa.totpIssuer });
    const pendingTotp = createPendingTotp(storage.kv, box);
    const recovery = createRecoveryCodeService({ credentials: storage.credentials, hashKey: deriveKey(keyEncryption.key, 'recovery-codes') });
    const secondFactors = createSecondFactorService({
      credentials: storage.credentials, totp, recovery, audit,
      lockout, transaction: storage.transaction,
    });
    const webauthn = createWebAuthnService({ credentials: storage.credentials, kv: storage.kv, audit, config, transaction: storage.transaction });

    const clientReads = createRequestClientReads(storage.clients);
    const registeredClients = createRegisteredClientStore({
      transaction: storage.transaction, audit, requireApproval: config.registration.requireApproval, written: (id) => clientReads.forget(id),
    });

    const host = await createProviderHost(config, {
      keys,
      log,
      // Its listeners do not await their audit writes (src/oidc/events.ts); during a token
      // request they must not ride on its transaction (src/storage/request-transaction.ts).
      audit: { ...audit, record: (...event) => storage.outsideRequestTransaction(() => audit.record(...event)) },
      extend: (provider) => {
        attachSessionHandling(provider, {
          oidc: storage.oidc, audit, log, backchannel, idleTimeoutSeconds: config.sessions.idleTimeoutSeconds,
        });
        attachProviderMetrics(provider, metrics);
      },
      buildOptions: (material) => buildProviderOptions(config, {
        adapter: createAdapter({ oidc: storage.oidc, digest: tokenDigest, clients: clientReads, registeredClients, sessions: config.sessions }),
        findAccount: createFindAccount(accounts, storage.roles.rolesOf),
        rolesOf: storage.roles.rolesOf,
        keys: material,
        consents: storage.consents,
        policy: { factorsOf: (accountId) => secondFactors.summary(accountId) },
        async renderError(ctx, out) {
          const i18n = i18nOf(ctx);
          ctx.type = 'html';
          ctx.body = await views.render('error', {
            title: i18n.t('errors.title.signInRefused'), i18n, code: out.error, ...explainProtocolError(i18n, out.error, out.error_description),
          });
        },
        async logoutSource(ctx: KoaContextWithOIDC, form: string) {
          const i18n = i18nOf(ctx);
          ctx.type = 'html';
          // The RP's own logout of the current session: no second question. The page posts the
          // provider's confirmation form ("yes") on load, as the provider's own page does when
          // there is no session, so back-channel logout and our session-ending hooks run as for
          // a confirmed logout (docs/decisions.md, "RP-initiated logout with a matching id_token_hint").
          const page = logoutPage(ctx);
          ctx.body = await views.render(page.view, { title: i18n.t('logout.title'), i18n, form, clientName: ctx.oidc.client?.clientName, ...page });
        },
        async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
          const i18n = i18nOf(ctx);
          ctx.type = 'html';
          ctx.body = await views.render('logged-out', { title: i18n.t('logout.doneTitle'), i18n, clientName: ctx.oidc.client?.clientName });
        },
      }),
    });

    providerHost = host;

    const registration = {
      initialAccessTokens: createInitialAccessTokens({
        provider: () => host.current, oidc: storage.oidc, digest: tokenDigest, transaction: storage.transaction, audit,
        defaultTtlSeconds: config.registration.initialAccessTokenTtlSeconds,
      }),
    };
    const emailAddress = createEmailAddressService({ storage, audit, settings: config.signUp });
    const selfService: SelfServiceDeps = {
      settings: config.signUp,
      signUp: createSignUpService({ storage, passwords, policy, audit, emailAddress, settings: config.signUp }),
      emailAddress,
      mail: createAccountMail({ mailer, log, issuer: config.issuer, productName: config.branding.productName }),
      publicForm: createPublicFormCsrf(csrf, { secure: config.issuer.startsWith('https:') }),
      limits,
    };
    const admin = createAdminServices({ config, storage, audit, box, passwords, policy, secondFactors, lockout, host, initialAccessTokens: registration.initialAccessTokens, sessionsEnded });
    const draining = createDraining();
    const app = createApp({
      config, log, storage, host, clientReads, views, translatorFor, metrics, draining,
      interactions: {
        host, accounts, csrf, views, oidc: storage.oidc, consents: storage.consents, origin: new URL(config.issuer).origin,
        secondFactors, totp, pendingTotp, recovery, webauthn, kv: storage.kv, box, audit, limits, config, selfService, translatorFor,
      },
      passwordReset: {
        config, selfService, views,
        reset: createPasswordReset({ storage, passwords, policy, audit, linkTtlSeconds: config.passwordReset.linkTtlSeconds, sessionsEnded, lockout }),
      },
      portal: { config, host, storage, accounts, passwords, secondFactors, totp, pendingTotp, recovery, webauthn, csrf, box, audit, views, selfService, userSessions,
        applications: createAllowedApplications({ storage, audit }), clock: early.clock ?? Date.now },
      admin,
      limits,
    });

    const purge = setInterval(() => {
      const auditCutoff = config.audit.retentionDays > 0 ? new Date(Date.now() - config.audit.retentionDays * 86_400_000) : null;
      Promise.all([storage.oidc.purgeExpired(), storage.signingKeys.deleteExpired(), auditCutoff ? storage.audit.deleteOlderThan(auditCutoff) : 0, storage.accountLinks.deleteExpired()])
        .then(([rows, keysDeleted, auditEvents, links]) => log.debug({ rows, keysDeleted, auditEvents, links }, 'expired rows purged'))
        .catch((err: unknown) => log.warn({ err }, 'purge failed'));
    }, config.storage.purgeIntervalSeconds * 1000);
    purge.unref();

    let server: Server | undefined;
    const metricsServer = config.metrics.enabled && config.metrics.port !== 0 ? createMetricsServer(metrics.registry) : undefined;
    let boundMetricsPort: number | null = null;
    return {
      config, app, host, storage: opened, keyEncryption, tokenDigest, keysCreated, admin, registration, mailer, metrics, limits, lockout, sessionsEnded,
      backchannelSettled: () => backchannel.settled(),
      async listen() {
        server = createServer(app.callback());
        const port = await listenOn(server, config.http.port, config.http.host);
        if (metricsServer) boundMetricsPort = await listenOn(metricsServer, config.metrics.port, config.http.host);
        return port;
      },
      metricsPort: () => boundMetricsPort,
      async close(graceMs = config.shutdown.graceSeconds * 1000) {
        draining.start();
        clearInterval(purge);
        host.stop();
        backchannel.stop();
        if (server) await drainServer(server, graceMs, log);
        // Scraped until the main listener has drained, so the last requests are counted.
        if (metricsServer?.listening) await drainServer(metricsServer, 1000, log);
        // Deliveries in flight finish (each is bounded by the library's request timeout);
        // retries not yet due are dropped with the process (docs/sessions.md).
        await backchannel.settled();
        mailer.close();
        await counters.close();
        await opened.close();
      },
    };
  } catch (error) {
    await counters.close();
    await opened.close();
    throw error;
  }
}

/** The given list, or the shipped one, loaded in the background (~0.2 s, 3.3 MB): boot does not wait; a check before it is ready does. */
function breachedListFor(given: BreachedPasswordList | undefined, log: Logger): () => Promise<BreachedPasswordList> {
  if (given) return () => Promise.resolve(given);
  const breachedLoad = Date.now();
  shippedBreachedList().then(
    (list) => log.debug({ entries: list.size, ms: Date.now() - breachedLoad }, 'breached-password list loaded'),
    (err: unknown) => log.error({ err }, 'breached-password list failed to load: setting a password fails until it loads'),
  );
  return shippedBreachedList;
}
