import { IncomingMessage, ServerResponse } from 'node:http';
import Koa from 'koa';
import mount from 'koa-mount';
import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import type { ProviderHost } from './oidc/provider.js';
import type { RequestClientReads } from './oidc/request-client-reads.js';
import type { Storage } from './storage/storage.js';
import type { ViewRenderer } from './http/views.js';
import { DEFAULT_LOCALE, type Locale } from './i18n/locale.js';
import type { Translator } from './i18n/translator.js';
import { localize } from './http/localize.js';
import type { SelfServiceDeps, Services } from './services.js';
import type { Mailer } from './mail/mailer.js';
import { createPortalRouter } from './web/account/router.js';
import { createPasswordResetRouter } from './web/password/password-reset.js';
import { createAccountMail } from './mail/account-mail.js';
import { createPublicFormCsrf } from './security/csrf.js';
import { createAdminApiRouter } from './admin/api/router.js';
import { createAdminConsoleRouter } from './web/admin/router.js';
import { errorHandler } from './http/error-handler.js';
import type { Metrics } from './observability/metrics.js';
import { serveMetrics } from './observability/metrics-endpoint.js';
import { observeRequests } from './http/request-log.js';
import { closeConnectionsWhileDraining, type Draining } from './http/draining.js';
import { securityHeaderValues, securityHeaders } from './http/security-headers.js';
import { assignRequestId } from './http/request-id.js';
import { answerMetadataEarly, serveProviderMetadata, type EarlyResponder } from './http/provider-metadata.js';
import { proxyTrust, type ProxyTrust } from './http/proxy-trust.js';
import { serveAssets, WEBAUTHN_BROWSER_BUNDLE } from './http/assets.js';
import { FEDERATION_ICONS } from './web/kit/federation.js';
import { createHealthRouter } from './http/health.js';
import { routersUnderTheirPaths } from './http/route-gate.js';
import { logoOrigin, serveBrandStylesheet } from './http/brand.js';
import { createInteractionRouter } from './web/interaction/router.js';
import { createEmailLinksRouter } from './web/email/email-links.js';
import { createFederationRouter } from './web/federation/router.js';
import { canonicalizeProviderPaths, providerRouteTable } from './oidc/canonical-path.js';
import { refuseUnstorableQuery } from './http/storable-input.js';
import { protocolEdge } from './oidc/protocol-edge.js';
import { frontchannelPage } from './oidc/frontchannel-page.js';
import { PROGRAM_ROUTES } from './oidc/routes.js';
import { formTargets } from './oidc/form-targets.js';
import { outsideBasePath } from './http/base-path.js';
import { issuerBasePath } from './config/issuer.js';

export interface AppDeps {
  config: Config;
  log: Logger;
  storage: Storage;
  host: ProviderHost;
  /** Client rows read once per request, shared by the pending-client check and the provider. */
  clientReads: RequestClientReads;
  views: ViewRenderer;
  /** The translator for each language (the catalogues are loaded once at boot). */
  translatorFor: (locale: Locale) => Translator;
  services: Services;
  /** Account mail (SMTP, or the outbox directory in the embedded default). */
  mailer: Mailer;
  /** Now, in epoch ms (createGatehouse's clock): how old a sign-in is on /account, when a code may be sent again. */
  clock: () => number;
  metrics: Metrics;
  /** Set once shutdown begins: /readyz fails and connections close after their response. */
  draining: Draining;
}

/** A Koa app whose request listener first offers each request to `early` (see answerMetadataEarly). */
class KoaWithEarlyAnswers extends Koa {
  constructor(
    options: ProxyTrust,
    private readonly early: EarlyResponder,
  ) {
    super(options);
  }

  override callback(): ReturnType<Koa['callback']> {
    const handle = super.callback();
    return (req, res) =>
      req instanceof IncomingMessage && res instanceof ServerResponse && this.early(req, res)
        ? Promise.resolve()
        : handle(req, res);
  }
}

/**
 * The Koa app: error handler and security headers first, our routes next, oidc-provider
 * mounted last so it only sees what we do not handle. No listen() here: tests import it.
 */
export function createApp(deps: AppDeps): Koa {
  const logo = logoOrigin(deps.config.branding.logoUrl);
  const headers = { hsts: deps.config.issuer.startsWith('https:'), imageOrigins: logo ? [logo] : [] };
  const metadata = () => deps.host.metadata;
  const trust = proxyTrust(deps.config.http.trustedProxyHops);
  const basePath = issuerBasePath(deps.config.issuer);
  const app = new KoaWithEarlyAnswers(
    trust,
    answerMetadataEarly({
      current: metadata,
      trustForwardedHeaders: trust.proxy,
      securityHeaders: securityHeaderValues(headers),
      draining: deps.draining,
      metrics: deps.metrics,
      basePath,
    }),
  );
  // Koa would print uncaught errors to stderr; the error handler logs them instead.
  app.silent = true;
  // koa-mount runs the provider on this app's context, so its signed cookies use these keys;
  // a getter follows key rotation.
  Object.defineProperty(app, 'keys', { get: () => deps.host.cookieKeys, configurable: true });
  const health = createHealthRouter(deps.storage, deps.draining, { log: deps.log, metrics: deps.metrics });
  const { config, services, host, storage, views } = deps;
  const origin = new URL(config.issuer).origin;
  const selfService = selfServiceOf(deps);
  const interactions = createInteractionRouter({
    ...services,
    host,
    views,
    config,
    origin,
    consents: storage.consents,
    kv: storage.kv,
    translatorFor: deps.translatorFor,
    selfService,
    clock: deps.clock,
  });
  const portal = createPortalRouter({ ...services, config, host, storage, views, selfService, clock: deps.clock });
  const adminApi = createAdminApiRouter({ admin: services.admin, host, storage, issuer: config.issuer });
  const adminConsole = createAdminConsoleRouter({ ...services, config, host, storage, views });
  const federation = createFederationRouter({
    federation: services.federation,
    upstreamSignOut: services.upstreamSignOut,
    host,
    views,
    kv: storage.kv,
    translatorFor: deps.translatorFor,
  });
  const emailLinks = createEmailLinksRouter({
    selfService,
    views,
    origin,
    emailSignIn: services.emailSignIn,
    kv: storage.kv,
  });
  const passwordReset = createPasswordResetRouter({ reset: services.passwordReset, selfService, views, config });

  // Only the list of our middleware: koa-mount runs it on this app's contexts, as it runs the
  // provider's, so none of this instance's own settings is ever read.
  const served = new Koa();
  const use: typeof served.use = served.use.bind(served);
  // Before anything compares paths: every spelling of a provider endpoint becomes its own
  // (docs/decisions.md, "One spelling per provider endpoint"). The routes are the same in every
  // provider the host builds, so the first one's are read once.
  use(canonicalizeProviderPaths(providerRouteTable(deps.host.current)));
  use(assignRequestId);
  use(observeRequests({ log: deps.log, metrics: deps.metrics }));
  use(closeConnectionsWhileDraining(deps.draining));
  use(securityHeaders({ ...headers, formTargets }));
  // Discovery and JWKS from precomputed bytes, before the work they do not need (docs/provider-metadata.md).
  use(serveProviderMetadata(metadata));
  use(localize(deps.translatorFor));
  use(errorHandler(deps.views, deps.log, deps.translatorFor(DEFAULT_LOCALE), PROGRAM_ROUTES));
  use(refuseUnstorableQuery);
  // Only when enabled and not on a port of its own: disabled, /metrics is an ordinary 404.
  if (deps.config.metrics.enabled && deps.config.metrics.port === 0) use(serveMetrics(deps.metrics.registry));
  use(
    serveAssets([
      'style.css',
      'webauthn.js',
      'recovery-codes.js',
      'resend-countdown.js',
      WEBAUTHN_BROWSER_BUNDLE,
      ...FEDERATION_ICONS.map((icon) => `icons/${icon}.svg`),
    ]),
  );
  use(serveBrandStylesheet(deps.config.branding.colours));
  // Our pages and APIs; a request elsewhere (the provider's endpoints) skips their routers.
  use(
    routersUnderTheirPaths(
      [health, interactions, federation, emailLinks, adminApi, portal, passwordReset, adminConsole],
      [
        health.routes(),
        interactions.routes(),
        interactions.allowedMethods(),
        federation.routes(),
        federation.allowedMethods(),
        emailLinks.routes(),
        adminApi.routes(),
        adminApi.allowedMethods(),
        portal.routes(),
        passwordReset.routes(),
        portal.allowedMethods(),
        adminConsole.routes(),
        adminConsole.allowedMethods(),
      ],
    ),
  );
  // The guards in front of the provider, in order, each with the endpoints it covers (protocol-edge.ts).
  const frontchannel = {
    enabled: config.identity.frontchannelLogout,
    provider: () => deps.host.current,
    render: frontchannelPage(views, deps.translatorFor(DEFAULT_LOCALE)),
  };
  const edge = protocolEdge({
    limits: services.limits,
    clientReads: deps.clientReads,
    storage: deps.storage,
    frontchannel,
    devicePolling: { kv: deps.storage.kv, clock: deps.clock, ...config.flows.deviceFlow },
  });
  for (const step of edge) use(step.run);
  use(deps.host.middleware);
  // Under an issuer's path prefix the whole app is mounted there, so routers and the provider
  // keep their paths and the provider builds its URLs with the prefix (ctx.mountPath); a
  // request elsewhere is a 404 (docs/decisions.md, "The issuer may have a path prefix").
  app.use(mount(basePath || '/', served));
  if (basePath) app.use(outsideBasePath(securityHeaderValues(headers)));
  return app;
}

/** What the sign-up, verification, change-of-address and password-reset pages share. */
function selfServiceOf(deps: AppDeps): SelfServiceDeps {
  const { config, services } = deps;
  return {
    settings: config.signUp,
    signUp: services.signUp,
    emailAddress: services.emailAddress,
    mail: createAccountMail({
      mailer: deps.mailer,
      log: deps.log,
      issuer: config.issuer,
      productName: config.branding.productName,
    }),
    publicForm: createPublicFormCsrf(services.csrf, { secure: config.issuer.startsWith('https:') }),
    limits: services.limits,
  };
}
