import type { Config } from './config/schema.js';
import type { Resources } from './resources.js';
import type { MessageParams } from './i18n/catalogue.js';
import { deriveKey } from './security/key-encryption-secret.js';
import { createAuditLog } from './security/audit.js';
import { createLockout } from './security/lockout.js';
import { createRateLimits } from './security/rate-limits.js';
import { createCsrf } from './security/csrf.js';
import { countSecurityEvents } from './observability/security-event-metrics.js';
import { createPasswordHasher } from './accounts/passwords.js';
import { createPasswordPolicy } from './accounts/password-policy.js';
import type { BreachedPasswordList } from './accounts/breached-passwords.js';
import { createAccountService } from './accounts/account-service.js';
import { createTotpService } from './accounts/totp.js';
import { createPendingTotp } from './accounts/pending-totp.js';
import { createRecoveryCodeService } from './accounts/recovery-codes.js';
import { createSecondFactorService } from './accounts/second-factors.js';
import { createWebAuthnService } from './accounts/webauthn.js';
import { createUserSessions, type SessionsEnded } from './accounts/user-sessions.js';
import { createAllowedApplications } from './accounts/allowed-applications.js';
import { createEmailAddressService } from './accounts/email-address.js';
import { createSignUpService } from './accounts/sign-up.js';
import { createPasswordReset } from './accounts/password-reset.js';
import { createUserImport } from './accounts/user-import.js';
import { createKeyManager, type KeyManager, type SigningKeyPairs } from './oidc/keys.js';
import { createInitialAccessTokens } from './oidc/initial-access-tokens.js';
import type { ProviderAccess } from './oidc/provider-access.js';
import type { SignUpSettings } from './accounts/sign-up-settings.js';
import type { PublicFormCsrf } from './security/csrf.js';
import type { AccountMail } from './mail/account-mail.js';
import { createAdminServices } from './admin/services.js';
import { createConnectionsService } from './federation/connections.service.js';
import { createFederationService } from './federation/federation.service.js';
import { createRoundTrips } from './federation/round-trip.js';
import { createUpstreams } from './federation/upstream.js';
import { createUpstreamSignOut } from './federation/upstream-sign-out.js';
import { createAppleSecrets } from './federation/apple-secret.js';
import type { Logger } from 'pino';
import type { Mailer } from './mail/mailer.js';
import type { Translator } from './i18n/translator.js';
import { negotiateLocale, type Locale } from './i18n/locale.js';
import { createLogger } from './http/logger.js';
import { createCodeDelivery } from './delivery/code-delivery.js';
import { createMailTransport } from './delivery/mail-transport.js';
import { createSmsTransport, noTransport } from './delivery/transports.js';
import type { Sleep } from './delivery/retry.js';
import { createCodeDigests } from './codes/secrets.js';
import { createEmailSignIn } from './codes/email-sign-in.js';
import { createCodeFactors } from './codes/code-factors.js';
import type { CodeSender } from './codes/code-sender.js';
import { createPairwiseSubjects } from './security/pairwise-subject.js';
import { createUserProfiles } from './accounts/user-profile.js';
import { createUserAttributes } from './accounts/user-attributes.js';

export interface ServiceOptions {
  /** The breached-password list, asked for when a password is checked (the CLI loads it only then). */
  breached: () => Promise<BreachedPasswordList>;
  /** English text for a catalogue key: the password policy's error messages. */
  english: (key: string, params?: MessageParams) => string;
  /** oidc-provider, reached when a service uses it (provider-access.ts); given the signing keys the CLI builds its own with. */
  provider: (keys: KeyManager) => ProviderAccess;
  /**
   * How codes and sign-in links go out (issue 18): the server's mailer, log and translators.
   * Absent (the CLI, which sends no codes): every send fails and is reported as failed.
   */
  delivery?: {
    mailer: Mailer;
    log: Logger;
    translatorFor: (locale: Locale) => Translator;
    /** Waits between webhook and Twilio attempts (tests record the delays instead). */
    sleep?: Sleep;
  };
  /** Now, in epoch ms (default Date.now): when codes and sign-in links expire. Tests move it forward. */
  clock?: () => number;
  /** Where new signing key pairs come from (default: generated); see GatehouseDeps.signingKeyPairs. */
  signingKeyPairs?: SigningKeyPairs;
}

/**
 * Every service over one opened storage, built once: the server (gatehouse.ts) and the CLI
 * (cli/context.ts) both take theirs from here, and each router takes the Pick of it it reads.
 * Building them does no I/O; only the server's surfaces use some (csrf, limits, webauthn).
 */
export function createServices(config: Config, resources: Resources, options: ServiceOptions) {
  const {
    box,
    counters,
    metrics,
    keyEncryption: { key },
  } = resources;
  const { storage } = resources.opened;
  const { transaction } = storage;
  const endings = sessionEndings();
  const sessionsEnded = endings.announce;
  const audit = createAuditLog(storage.audit, countSecurityEvents(metrics));
  const passwords = createPasswordHasher(config.passwords.argon2);
  const policy = createPasswordPolicy({
    settings: config.passwordPolicy,
    breached: options.breached,
    english: options.english,
  });
  const lockout = createLockout(config.lockout, { counters, metrics });
  const totp = createTotpService({ credentials: storage.credentials, box, issuer: config.mfa.totpIssuer });
  const recovery = createRecoveryCodeService({
    credentials: storage.credentials,
    hashKey: deriveKey(key, 'recovery-codes'),
  });
  const secondFactors = createSecondFactorService({
    credentials: storage.credentials,
    totp,
    recovery,
    audit,
    lockout,
    transaction,
  });
  const keys = createKeyManager(storage.signingKeys, box, options.signingKeyPairs);
  // Derived from the key-encryption secret: the same pairwise subs after a restart and on every replica.
  const pairwise = createPairwiseSubjects(key);
  const profiles = createUserProfiles({ storage, audit });
  const provider = options.provider(keys);
  // The provider's claims are built from the attribute schema: a change rebuilds it here at once
  // (other replicas: on their reload timer; the CLI runs none).
  const attributes = createUserAttributes({ storage, audit, schemaChanged: provider.reloadKeys });
  const initialAccessTokens = createInitialAccessTokens({
    provider: () => provider.provider(),
    oidc: storage.oidc,
    digest: resources.tokenDigest,
    transaction,
    audit,
    defaultTtlSeconds: config.registration.initialAccessTokenTtlSeconds,
  });
  const emailAddress = createEmailAddressService({ storage, audit, settings: config.signUp });
  const limits = createRateLimits(config.rateLimits, { counters, audit, metrics });
  const clock = options.clock ?? Date.now;
  const codeDelivery = createCodeDelivery({
    email: options.delivery
      ? createMailTransport({
          mailer: options.delivery.mailer,
          translatorFor: translatorsOf(options.delivery.translatorFor),
          productName: config.branding.productName,
        })
      : noTransport,
    sms: options.delivery
      ? createSmsTransport(config, { log: options.delivery.log, sleep: options.delivery.sleep })
      : noTransport,
    translatorFor: translatorsOf(options.delivery?.translatorFor ?? noTranslator(options.english)),
    issuer: config.issuer,
    productName: config.branding.productName,
    log: options.delivery?.log ?? createLogger('silent'),
    metrics,
    audit,
  });
  // The delivery layer's shape is the domain's port: the compiler checks they still fit.
  const codeSender: CodeSender = codeDelivery;
  const codeDigests = createCodeDigests(deriveKey(key, 'one-time-codes'));
  const codeDeps = { storage, digests: codeDigests, sender: codeSender, limits, audit, clock };
  const connections = createConnectionsService({ storage, box, audit });
  const upstreams = createUpstreams({
    timeoutMs: config.federation.upstreamTimeoutMs,
    appleSecrets: createAppleSecrets(),
  });
  const federation = createFederationService({
    storage,
    box,
    audit,
    connections,
    issuer: config.issuer,
    roundTrips: createRoundTrips(storage.kv, box),
    upstreams,
  });
  return {
    box,
    audit,
    passwords,
    policy,
    lockout,
    /** Rate limits: routes call `limits.consume(ctx, policy, key)` (docs/abuse-protection.md). */
    limits,
    csrf: createCsrf(deriveKey(key, 'csrf')),
    accounts: createAccountService({ users: storage.users, passwords, policy, lockout, audit, transaction }),
    totp,
    pendingTotp: createPendingTotp(storage.kv, box),
    recovery,
    secondFactors,
    webauthn: createWebAuthnService({ credentials: storage.credentials, kv: storage.kv, audit, config, transaction }),
    keys,
    pairwise,
    /** The OIDC Core §5.1 profile claims of a user: /account and the admin API edit them. */
    profiles,
    /** Custom user attributes: the schema admins define, and each user's values (/account, admin). */
    attributes,
    /** Dynamic client registration (RFC 7591): initial access tokens (approvals: admin.clients). */
    initialAccessTokens,
    admin: createAdminServices({
      config,
      storage,
      audit,
      box,
      passwords,
      policy,
      secondFactors,
      lockout,
      initialAccessTokens,
      sessionsEnded,
      connections,
      federation,
      onKeysRotated: provider.reloadKeys,
      pairwise,
      profiles,
      attributes,
      clock,
    }),
    userImport: createUserImport({ users: storage.users, box, transaction }),
    userSessions: createUserSessions({ storage, audit, sessionsEnded }),
    applications: createAllowedApplications({ storage, audit }),
    emailAddress,
    signUp: createSignUpService({ storage, passwords, policy, audit, emailAddress, settings: config.signUp }),
    /** Sign-in without a password by an emailed code or link (docs/factors.md, "Email sign-in"). */
    emailSignIn: createEmailSignIn({ ...codeDeps, config }),
    /** Email and SMS codes as second factors, and phone numbers (docs/factors.md). */
    codeFactors: createCodeFactors({ ...codeDeps, config }),
    /** Where codes go out; `settled()` waits for deliveries in flight (tests, shutdown). */
    codeDelivery,
    /** Upstream identity providers an admin configures (admin API, console, CLI). */
    connections,
    /** Sign-in through those upstreams: begin, complete, link, unlink (docs/federation.md). */
    federation,
    /** Signing out upstream with a session signed in through a connection (docs/federation.md). */
    upstreamSignOut: createUpstreamSignOut({ storage, box, connections, upstreams, issuer: config.issuer }),
    passwordReset: createPasswordReset({
      storage,
      passwords,
      policy,
      audit,
      linkTtlSeconds: config.passwordReset.linkTtlSeconds,
      sessionsEnded,
      lockout,
    }),
    /**
     * "These sessions ended": call it after the transaction that ended them commits, with what
     * `tx.sessions.endSession` / `endOtherSessions` / `signOutEverywhere` returned.
     */
    sessionsEnded,
    /** Who is told when sessions end: the server's back-channel logout (the CLI runs no provider to sign logout tokens). */
    onSessionsEnded: endings.listen,
  };
}

export type Services = ReturnType<typeof createServices>;

/** A message's language as the recipient's request named it (ui_locales rules): a catalogue we have. */
const translatorsOf =
  (translatorFor: (locale: Locale) => Translator) =>
  (locale: string): Translator =>
    translatorFor(negotiateLocale({ uiLocales: locale }));

/** Without the server's translators (the CLI) texts are never sent; English keys stand in. */
function noTranslator(english: ServiceOptions['english']): (locale: Locale) => Translator {
  return (locale) => ({
    locale,
    t: english,
    message: english,
    find: english,
    formatDate: (date) => new Date(date).toISOString(),
    formatNumber: String,
  });
}

/** The services announce ended sessions; whoever delivers the news listens (OIDC Back-Channel Logout 1.0). */
function sessionEndings(): { announce: SessionsEnded; listen(listener: SessionsEnded): void } {
  const listeners: SessionsEnded[] = [];
  return {
    announce: (sessions) => {
      for (const listener of listeners) listener(sessions);
    },
    listen: (listener) => {
      listeners.push(listener);
    },
  };
}

/**
 * What the sign-up, verification, change-of-address and password-reset pages share: the
 * server's alone (the account mails need its mailer), built beside the routers (src/app.ts).
 */
export interface SelfServiceDeps extends Pick<Services, 'signUp' | 'emailAddress'> {
  settings: SignUpSettings;
  mail: AccountMail;
  /** CSRF of the pages behind mailed links, which no session backs. */
  publicForm: PublicFormCsrf;
  /** Per-IP limits on sign-up and per-account limits on the mails these forms send. */
  limits: Services['limits'];
}
