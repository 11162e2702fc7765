import type { Context } from 'koa';
import type { UserSessions } from '../../accounts/user-sessions.js';
import type { Config } from '../../config/schema.js';
import type { ProviderHost } from '../../oidc/provider.js';
import type { ViewRenderer } from '../../http/views.js';
import type { Storage } from '../../storage/storage.js';
import type { AdminActor } from '../../security/admin-actor.js';
import type { Services } from '../../services.js';

/**
 * What the console needs; it changes nothing except through the admin services. The secret box
 * seals a new client secret while it waits in the shared store for the page that shows it.
 */
export interface ConsoleDeps extends Pick<Services, 'box' | 'accounts' | 'csrf' | 'admin' | 'upstreamSignOut'> {
  config: Pick<Config, 'issuer' | 'admin'>;
  host: ProviderHost;
  /** Read only, for the role check on every request and the names in the audit log; kv for the one-time secret page. */
  storage: Pick<Storage, 'roles' | 'users' | 'clients' | 'kv'>;
  views: ViewRenderer;
  /** "Sign out" ends this browser's provider session at once, as /account's does. */
  userSessions: Pick<UserSessions, 'endOne'>;
}

/** The signed-in administrator, checked on every request. */
interface ConsoleSession {
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
