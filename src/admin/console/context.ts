import type { Context } from 'koa';
import type { UserSessions } from '../../accounts/user-sessions.js';
import type { Config } from '../../config/schema.js';
import type { AccountService } from '../../accounts/account-service.js';
import type { ProviderHost } from '../../oidc/provider.js';
import type { Csrf } from '../../security/csrf.js';
import type { ViewRenderer } from '../../http/views.js';
import type { Storage } from '../../storage/storage.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { AdminActor } from '../actor.js';
import type { AdminServices } from '../services.js';

/** What the console needs; it changes nothing except through the admin services. */
export interface ConsoleDeps {
  config: Pick<Config, 'issuer' | 'admin'>;
  host: ProviderHost;
  /** Read only, for the role check on every request and the names in the audit log; kv for the one-time secret page. */
  storage: Pick<Storage, 'roles' | 'users' | 'clients' | 'kv'>;
  /** Seals a new client secret while it waits in the shared store for the page that shows it. */
  box: SecretBox;
  accounts: AccountService;
  csrf: Csrf;
  views: ViewRenderer;
  admin: AdminServices;
  /** "Sign out" ends this browser's provider session at once, as /account's does. */
  userSessions: Pick<UserSessions, 'endOne'>;
}

/** The signed-in administrator, checked on every request. */
export interface ConsoleSession {
  userId: string;
  email: string;
  /** The provider session it came from: the console session ends when that one ends. */
  sessionUid: string;
  /** CSRF token for this session's forms. */
  csrf: string;
  /** Who the admin services record as having acted. */
  actor: AdminActor;
}

export interface WithConsoleContext extends Context {
  state: { console: ConsoleSession };
}
