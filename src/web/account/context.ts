import type { Context } from 'koa';
import type { Config } from '../../config/schema.js';
import type { ProviderHost } from '../../oidc/provider.js';
import type { ViewRenderer } from '../../http/views.js';
import type { Storage } from '../../storage/storage.js';
import type { Translator } from '../../i18n/translator.js';
import type { SelfServiceDeps, Services } from '../../services.js';

/** The signed-in user of the account pages, from Gatehouse's own code flow. */
interface PortalSession {
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

/**
 * What the account pages read: the user's sessions (`userSessions`: list, end one, end the
 * others, sign out everywhere) and the third-party applications they allowed (`applications`).
 */
export interface PortalDeps extends Pick<
  Services,
  | 'accounts'
  | 'secondFactors'
  | 'totp'
  | 'pendingTotp'
  | 'recovery'
  | 'webauthn'
  | 'csrf'
  | 'audit'
  | 'userSessions'
  | 'applications'
  | 'federation'
  | 'profiles'
  | 'attributes'
  | 'upstreamSignOut'
  | 'codeFactors'
> {
  config: Pick<Config, 'issuer' | 'mfa' | 'passwordPolicy' | 'codes' | 'sms'>;
  host: ProviderHost;
  storage: Storage;
  views: ViewRenderer;
  /** Change of address (src/web/account/email-routes.ts). */
  selfService: SelfServiceDeps;
  /** Now, in epoch ms (createGatehouse's clock): how old the sign-in is. */
  clock: () => number;
}
