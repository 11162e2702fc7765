import type { Config } from '../config/schema.js';
import type { Storage } from '../storage/storage.js';
import type { AuditLog } from '../security/audit.js';
import type { SecretBox } from '../security/secret-box.js';
import type { PasswordHasher } from '../accounts/passwords.js';
import type { PasswordPolicy } from '../accounts/password-policy.js';
import type { SecondFactorService } from '../accounts/second-factors.js';
import { createUserImport } from '../accounts/user-import.js';
import { createClientsAdmin } from '../clients/clients.service.js';
import { createSectorCheck } from '../clients/sector-identifier.js';
import type { PairwiseSubjects } from '../security/pairwise-subject.js';
import type { UserProfiles } from '../accounts/user-profile.js';
import type { UserAttributesService } from '../accounts/user-attributes.js';
import { createUsersAdmin } from './users.service.js';
import { createRolesAdmin } from '../roles/roles.service.js';
import { createPermissionsAdmin } from '../permissions/permissions.service.js';
import { adminApiIndicator } from '../oidc/admin-resource.js';
import { createSessionsAdmin } from './sessions.service.js';
import { createKeysAdmin } from './keys.service.js';
import { createInitialAccessTokensAdmin } from './initial-access-tokens.service.js';
import type { InitialAccessTokens } from '../oidc/initial-access-tokens.js';
import type { Lockout } from '../security/lockout.js';
import type { SessionsEnded } from '../accounts/user-sessions.js';
import type { ConnectionsService } from '../federation/connections.service.js';
import type { FederationService } from '../federation/federation.service.js';
import { createIdentitiesAdmin } from './identities.service.js';
import { createSubjectsAdmin } from './subjects.service.js';
import { createActivityService } from './activity.service.js';

export interface AdminServiceDeps {
  config: Config;
  storage: Storage;
  audit: AuditLog;
  box: SecretBox;
  passwords: PasswordHasher;
  /** Applied to every password an admin sets or gives a new user (docs/passwords.md). */
  policy: PasswordPolicy;
  secondFactors: SecondFactorService;
  /** Sign-in lockouts: admins see and clear them. */
  lockout: Lockout;
  /** Rebuilds the running provider after a key rotation; absent in the CLI, where no provider runs. */
  onKeysRotated?: () => Promise<unknown>;
  /** Initial access tokens for dynamic client registration (src/oidc/initial-access-tokens.ts). */
  initialAccessTokens: InitialAccessTokens;
  /** Announces the sessions an admin ends (the server's back-channel logout listens). */
  sessionsEnded: SessionsEnded;
  /** Upstream identity providers (issue 17): the same service the sign-in pages read. */
  connections: ConnectionsService;
  /** Sign-in through them: admins list a user's linked identities with it. */
  federation: Pick<FederationService, 'listIdentities'>;
  /** Maps a client's pairwise `sub` back to its user (OIDC Core §8.1). */
  pairwise: PairwiseSubjects;
  /** A user's profile claims (accounts/user-profile.ts). */
  profiles: UserProfiles;
  /** Custom user attributes: their schema and values (accounts/user-attributes.ts). */
  attributes: UserAttributesService;
  /** Now, in epoch milliseconds: the dashboard's ranges end here (default Date.now). */
  clock?: () => number;
}

/** Everything an admin can do, shared by the admin API and the console (which never call each other over HTTP). */
export function createAdminServices(deps: AdminServiceDeps) {
  const { storage, audit } = deps;
  const { sessionsEnded } = deps;
  return {
    clients: createClientsAdmin({ storage, audit, sectorCheck: createSectorCheck(deps.config.issuer) }),
    users: createUsersAdmin({
      storage,
      audit,
      sessionsEnded,
      box: deps.box,
      passwords: deps.passwords,
      policy: deps.policy,
      secondFactors: deps.secondFactors,
      lockout: deps.lockout,
      userImport: createUserImport({ users: storage.users, box: deps.box, transaction: storage.transaction }),
    }),
    roles: createRolesAdmin({ storage, audit }),
    permissions: createPermissionsAdmin({
      storage,
      audit,
      reserved: [...deps.config.resources.map((r) => r.indicator), adminApiIndicator(deps.config.issuer)],
      defaultTokenTtl: deps.config.ttl.accessToken,
    }),
    sessions: createSessionsAdmin({ storage, audit, sessionsEnded }),
    keys: createKeysAdmin({ storage, audit, box: deps.box, config: deps.config, onRotated: deps.onKeysRotated }),
    initialAccessTokens: createInitialAccessTokensAdmin(deps.initialAccessTokens),
    audit: { query: storage.audit.query },
    /** The dashboard's figures (sign-ins, active users, new accounts, limits, token requests). */
    activity: createActivityService({ activity: storage.activity, now: deps.clock ?? Date.now }),
    connections: deps.connections,
    identities: createIdentitiesAdmin({ storage, audit, federation: deps.federation }),
    subjects: createSubjectsAdmin({ storage, pairwise: deps.pairwise }),
    profiles: deps.profiles,
    attributes: deps.attributes,
  };
}

export type AdminServices = ReturnType<typeof createAdminServices>;
