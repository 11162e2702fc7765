import type { Context } from 'koa';
import type { Config } from '../config/schema.js';
import type { AccountService } from '../accounts/account-service.js';
import type { PasswordHasher } from '../accounts/passwords.js';
import type { SecondFactorService } from '../accounts/second-factors.js';
import type { TotpService } from '../accounts/totp.js';
import type { PendingTotp } from '../accounts/pending-totp.js';
import type { RecoveryCodeService } from '../accounts/recovery-codes.js';
import type { WebAuthnService } from '../accounts/webauthn.js';
import type { ProviderHost } from '../oidc/provider.js';
import type { Csrf } from '../security/csrf.js';
import type { SecretBox } from '../security/secret-box.js';
import type { AuditLog } from '../security/audit.js';
import type { ViewRenderer } from '../http/views.js';
import type { Storage } from '../storage/storage.js';
import type { Translator } from '../i18n/translator.js';
import type { SelfServiceDeps } from '../self-service/context.js';
import type { UserSessions } from '../accounts/user-sessions.js';
import type { AllowedApplications } from '../accounts/allowed-applications.js';

/** The signed-in user of the account pages, from Gatehouse's own code flow. */
export interface PortalSession {
  userId: string;
  email: string;
  /** Unix seconds of the sign-in behind this session (sensitive changes need a recent one). */
  authTime: number;
  amr: string[];
  /** The provider session it came from: the account pages end when that session ends. */
  sessionUid: string;
  /** CSRF token for this session's forms. */
  csrf: string;
}

export interface WithPortalContext extends Context {
  state: { portal: PortalSession; i18n: Translator };
}

export interface PortalDeps {
  config: Pick<Config, 'issuer' | 'mfa' | 'passwordPolicy'>;
  host: ProviderHost;
  storage: Storage;
  accounts: AccountService;
  passwords: PasswordHasher;
  secondFactors: SecondFactorService;
  totp: TotpService;
  pendingTotp: PendingTotp;
  recovery: RecoveryCodeService;
  webauthn: WebAuthnService;
  csrf: Csrf;
  box: SecretBox;
  audit: AuditLog;
  views: ViewRenderer;
  /** Change of address (src/portal/email-routes.ts). */
  selfService: SelfServiceDeps;
  /** The user's sessions (list, end one, end the others, sign out everywhere). */
  userSessions: UserSessions;
  /** The third-party applications the user has allowed (list, revoke). */
  applications: AllowedApplications;
  /** Now, in epoch ms (createGatehouse's clock): how old the sign-in is. */
  clock: () => number;
}
