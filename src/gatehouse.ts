import type { Server } from 'node:http';
import { join } from 'node:path';
import type Koa from 'koa';
import type { Logger } from 'pino';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from './config/schema.js';
import { openStorage, type OpenedStorage } from './storage/storage.js';
import { createApp } from './app.js';
import { createViewRenderer } from './http/views.js';
import { loadCatalogue } from './i18n/catalogue.js';
import { createTranslators } from './i18n/translator.js';
import { DEFAULT_LOCALE } from './i18n/locale.js';
import { createSecretBox } from './security/secret-box.js';
import { loadKeyEncryptionSecret, type KeyEncryptionSecret } from './security/key-encryption-secret.js';
import { createCsrf } from './security/csrf.js';
import { createSignInThrottle } from './security/sign-in-throttle.js';
import { createPasswordHasher } from './accounts/passwords.js';
import { createPasswordPolicy } from './accounts/password-policy.js';
import { shippedBreachedList } from './accounts/breached-passwords.js';
import { createAccountService } from './accounts/account-service.js';
import { createPasswordReset } from './accounts/password-reset.js';
import { createKeyManager } from './oidc/keys.js';
import { createAdapter } from './oidc/adapter.js';
import { createFindAccount } from './oidc/account.js';
import { buildProviderOptions } from './oidc/options.js';
import { createProviderHost, type ProviderHost } from './oidc/provider.js';
import { createTotpService } from './accounts/totp.js';
import { createRecoveryCodeService } from './accounts/recovery-codes.js';
import { createPendingTotp } from './accounts/pending-totp.js';
import { createSecondFactorService } from './accounts/second-factors.js';
import { createWebAuthnService } from './accounts/webauthn.js';
import { createAuditLog } from './security/audit.js';
import { deriveKey } from './security/key-encryption-secret.js';
import { ensureAccountClient } from './portal/account-client.js';
import { createRegisteredClientStore } from './oidc/registered-client-store.js';
import { createInitialAccessTokens, type InitialAccessTokens } from './oidc/initial-access-tokens.js';
import { ensureAdminConsole } from './admin/console-client.js';
import { createAdminServices, type AdminServices } from './admin/services.js';
import { createMailer, type Mailer } from './mail/mailer.js';
import { createSignUpService } from './accounts/sign-up.js';
import { createEmailAddressService } from './accounts/email-address.js';
import { createAccountMail } from './self-service/account-mail.js';
import { createPublicFormCsrf } from './security/csrf.js';
import type { SelfServiceDeps } from './self-service/context.js';

export const PRODUCT_NAME = 'Gatehouse';

export interface Gatehouse {
  config: Config;
  app: Koa;
  host: ProviderHost;
  storage: OpenedStorage;
  keyEncryption: KeyEncryptionSecret;
  keysCreated: boolean;
  /** Dynamic client registration administration (RFC 7591): initial access tokens (approvals: admin.clients). */
  registration: { initialAccessTokens: InitialAccessTokens };
  /** The admin services (the API and console use them; tests build fixtures with them). */
  admin: AdminServices;
  /** Account mail (SMTP, or the outbox directory in the embedded default). */
  mailer: Mailer;
  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number>;
  /** Stops accepting, lets in-flight requests finish, closes pools. */
  close(): Promise<void>;
}

/** Opens storage and keys and builds the app; main.ts and the tests both start here. */
export async function createGatehouse(config: Config, log: Logger): Promise<Gatehouse> {
  const keyEncryption = loadKeyEncryptionSecret(config.keys.encryptionSecret, config.storage.dataDir);
  const box = createSecretBox(keyEncryption.key);
  const opened = await openStorage(config);
  const { storage } = opened;
  try {
    const keys = createKeyManager(storage.signingKeys, box);
    const keysCreated = await keys.ensureKeys();
    await ensureAccountClient(storage.clients, config.issuer);
    await ensureAdminConsole(storage, config.issuer, config.admin.consoleMfa);
    const translatorFor = createTranslators(loadCatalogue());
    const views = createViewRenderer({ productName: PRODUCT_NAME, cache: true, english: translatorFor(DEFAULT_LOCALE) });
    const mailer = createMailer({ ...config.mail, outboxDir: join(config.storage.dataDir, 'outbox'), views, log });
    if (mailer.kind === 'outbox') log.warn('SMTP_URL is not set: account mail is written to the outbox directory in the data directory, not sent');
    const passwords = createPasswordHasher(config.passwords.argon2);
    // Loaded in the background (~0.2 s, 3.3 MB): boot does not wait; a check before it is ready does.
    const breachedLoad = Date.now();
    shippedBreachedList().then(
      (list) => log.debug({ entries: list.size, ms: Date.now() - breachedLoad }, 'breached-password list loaded'),
      (err: unknown) => log.error({ err }, 'breached-password list failed to load: setting a password fails until it loads'),
    );
    const policy = createPasswordPolicy({ settings: config.passwordPolicy, breached: shippedBreachedList, english: translatorFor(DEFAULT_LOCALE).t });
    const throttle = createSignInThrottle(storage.kv, config.signIn);
    const audit = createAuditLog(storage.audit);
    const accounts = createAccountService({ users: storage.users, passwords, policy, throttle, audit, transaction: storage.transaction });
    const csrf = createCsrf(deriveKey(keyEncryption.key, 'csrf'));
    const totp = createTotpService({ credentials: storage.credentials, box, issuer: config.mfa.totpIssuer });
    const pendingTotp = createPendingTotp(storage.kv, box);
    const recovery = createRecoveryCodeService({ credentials: storage.credentials, hashKey: deriveKey(keyEncryption.key, 'recovery-codes') });
    const secondFactors = createSecondFactorService({
      credentials: storage.credentials, totp, recovery, audit,
      throttle: createSignInThrottle(storage.kv, config.signIn, 'second-factor'), transaction: storage.transaction,
    });
    const webauthn = createWebAuthnService({ credentials: storage.credentials, kv: storage.kv, audit, config, transaction: storage.transaction });

    const registeredClients = createRegisteredClientStore({
      transaction: storage.transaction, audit, requireApproval: config.registration.requireApproval,
    });

    const host = await createProviderHost(config, {
      keys,
      log,
      audit,
      buildOptions: (material) => buildProviderOptions(config, {
        adapter: createAdapter({ oidc: storage.oidc, clients: storage.clients, registeredClients }),
        findAccount: createFindAccount(accounts, storage.roles.rolesOf),
        rolesOf: storage.roles.rolesOf,
        keys: material,
        oidc: storage.oidc,
        policy: { factorsOf: (accountId) => secondFactors.summary(accountId) },
        async renderError(ctx, out) {
          ctx.type = 'html';
          ctx.body = await views.render('error', {
            title: 'Sign-in request refused',
            code: out.error,
            message: out.error_description ?? 'The request could not be processed.',
          });
        },
        async logoutSource(ctx: KoaContextWithOIDC, form: string) {
          ctx.type = 'html';
          ctx.body = await views.render('logout', { title: 'Sign out', form, clientName: ctx.oidc.client?.clientName });
        },
        async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
          ctx.type = 'html';
          ctx.body = await views.render('logged-out', { title: 'Signed out', clientName: ctx.oidc.client?.clientName });
        },
      }),
    });

    const registration = {
      initialAccessTokens: createInitialAccessTokens({
        provider: () => host.current, oidc: storage.oidc, transaction: storage.transaction, audit,
        defaultTtlSeconds: config.registration.initialAccessTokenTtlSeconds,
      }),
    };
    const emailAddress = createEmailAddressService({ storage, audit, settings: config.signUp });
    const selfService: SelfServiceDeps = {
      settings: config.signUp,
      signUp: createSignUpService({ storage, passwords, policy, audit, emailAddress, settings: config.signUp }),
      emailAddress,
      mail: createAccountMail({ mailer, log, issuer: config.issuer, productName: PRODUCT_NAME }),
      publicForm: createPublicFormCsrf(csrf, { secure: config.issuer.startsWith('https:') }),
    };
    const admin = createAdminServices({ config, storage, audit, box, passwords, policy, secondFactors, host, initialAccessTokens: registration.initialAccessTokens });
    const app = createApp({
      config, log, storage, host, views, translatorFor,
      interactions: {
        host, accounts, csrf, views, oidc: storage.oidc, origin: new URL(config.issuer).origin,
        secondFactors, totp, pendingTotp, recovery, webauthn, kv: storage.kv, box, audit, config, selfService,
      },
      passwordReset: {
        config, selfService, views,
        reset: createPasswordReset({ storage, passwords, policy, audit, linkTtlSeconds: config.passwordReset.linkTtlSeconds }),
      },
      portal: { config, host, storage, accounts, passwords, secondFactors, totp, pendingTotp, recovery, webauthn, csrf, box, audit, views, selfService },
      admin,
    });

    const purge = setInterval(() => {
      const auditCutoff = config.audit.retentionDays > 0 ? new Date(Date.now() - config.audit.retentionDays * 86_400_000) : null;
      Promise.all([storage.oidc.purgeExpired(), storage.signingKeys.deleteExpired(), auditCutoff ? storage.audit.deleteOlderThan(auditCutoff) : 0, storage.accountLinks.deleteExpired()])
        .then(([rows, keysDeleted, auditEvents, links]) => log.debug({ rows, keysDeleted, auditEvents, links }, 'expired rows purged'))
        .catch((err: unknown) => log.warn({ err }, 'purge failed'));
    }, config.storage.purgeIntervalSeconds * 1000);
    purge.unref();

    let server: Server | undefined;
    return {
      config, app, host, storage: opened, keyEncryption, keysCreated, admin, registration, mailer,
      listen() {
        return new Promise((resolve, reject) => {
          const listening = app.listen(config.http.port, config.http.host);
          listening.once('error', reject);
          listening.once('listening', () => {
            server = listening;
            const address = listening.address();
            resolve(typeof address === 'object' && address ? address.port : config.http.port);
          });
        });
      },
      async close() {
        clearInterval(purge);
        host.stop();
        if (server) {
          const closing = new Promise<void>((resolve) => server?.close(() => resolve()));
          server.closeIdleConnections();
          await closing;
        }
        mailer.close();
        await opened.close();
      },
    };
  } catch (error) {
    await opened.close();
    throw error;
  }
}
