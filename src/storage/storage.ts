import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { Config } from '../config/schema.js';
import { createDataSource, runMigrations, type PgConnection } from './data-source.js';
import type { EmbeddedPostgres } from './embedded-postgres.js';
import { openEmbeddedFor } from './open-embedded.js';
import { createMemoryStore, createRedisStore, type KeyValueStore } from './key-value-store.js';
import { createOidcStoreRepository } from './oidc-store.repository.js';
import { createSessionsRepository } from './sessions.repository.js';
import { createUsersRepository } from './users.repository.js';
import { createClientsRepository } from './clients.repository.js';
import { createSigningKeysRepository } from './signing-keys.repository.js';
import { createCredentialsRepository } from './credentials.repository.js';
import { createAuditRepository } from './audit.repository.js';
import { createRolesRepository } from './roles.repository.js';
import { createAccountLinksRepository } from './account-links.repository.js';
import { createConsentsRepository } from './consents.repository.js';
import { createConnectionsRepository } from './connections.repository.js';
import { createUserIdentitiesRepository } from './user-identities.repository.js';
import { createOneTimeCodesRepository } from './one-time-codes.repository.js';
import { createPhonesRepository } from './phones.repository.js';
import { createActivityRepository } from './activity.repository.js';
import { createPermissionsRepository } from './permissions.repository.js';
import { createAttributesRepository } from './attributes.repository.js';
import { createRequestTransactions, type AfterTransaction } from './request-transaction.js';
import { createRowCache, type RowCache } from './row-cache.js';
import { noChangeFeed, postgresChangeFeed, type ChangeFeed } from './change-feed.js';
import type { ClientRow } from './entities/client.entity.js';
import type { UserRow } from './entities/user.entity.js';
import type { ConnectionRow } from './entities/connection.entity.js';
import { setMigrationContext } from './migration-context.js';
import type { TokenDigest } from '../security/token-digest.js';

/** What the repositories of every EntityManager share: rows kept in memory between requests. */
interface SharedRows {
  clients?: RowCache<ClientRow>;
  users?: RowCache<UserRow>;
  connections?: RowCache<readonly ConnectionRow[]>;
}

/** The repositories over one EntityManager: the pool's, or one transaction's. */
function createRepositories(db: EntityManager, shared: SharedRows = {}) {
  return {
    /** oidc-provider's rows, as the adapter reads and writes them. */
    oidc: createOidcStoreRepository(db),
    /** The same rows as sessions and grants of an account: /account, the admin, the CLI. */
    sessions: createSessionsRepository(db),
    users: createUsersRepository(db, shared.users),
    clients: createClientsRepository(db, shared.clients),
    signingKeys: createSigningKeysRepository(db),
    credentials: createCredentialsRepository(db),
    audit: createAuditRepository(db),
    /** The dashboard's figures, counted from audit_events (src/admin/activity.service.ts). */
    activity: createActivityRepository(db),
    roles: createRolesRepository(db),
    accountLinks: createAccountLinksRepository(db),
    consents: createConsentsRepository(db),
    /** Upstream identity providers and the identities linked through them (issue 17). */
    connections: createConnectionsRepository(db, shared.connections),
    identities: createUserIdentitiesRepository(db),
    /** Codes and sign-in links by email and SMS, phone numbers, code second factors (issue 18). */
    oneTimeCodes: createOneTimeCodesRepository(db),
    phones: createPhonesRepository(db),
    /** API resources, permissions, who holds them, token exchange policies (issue 19). */
    permissions: createPermissionsRepository(db),
    /** Custom user attributes: the schema admins define; values live in users.attributes (issue 19). */
    attributes: createAttributesRepository(db, shared.users),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;

/**
 * In a request transaction, deleting protocol rows is revoking them (a replayed code or
 * refresh token, RFC 9700 §4.14.2): that must stand whatever the request's outcome, and it
 * runs after the transaction, statement by statement. Inside it, concurrent replays of one
 * grant would each hold the locks of the rows they had deleted while waiting for the
 * other's, and PostgreSQL would end one of them as a deadlock.
 */
function revokeAfterTransaction(pooled: Repositories) {
  return (repositories: Repositories, after: AfterTransaction): Repositories => ({
    ...repositories,
    oidc: {
      ...repositories.oidc,
      destroy: (model, id) => after(() => pooled.oidc.destroy(model, id)),
      revokeByGrantId: (model, grantId) => after(() => pooled.oidc.revokeByGrantId(model, grantId)),
      revokeGrant: (grantId) => after(() => pooled.oidc.revokeGrant(grantId)),
    },
  });
}

function createStorage(dataSource: DataSource, kv: KeyValueStore, changes: ChangeFeed) {
  const shared: SharedRows = {
    clients: createRowCache<ClientRow>(changes, 'clients'),
    users: createRowCache<UserRow>(changes, 'users'),
    connections: createRowCache<readonly ConnectionRow[]>(changes, 'connections', { wholeTable: true }),
  };
  const settle = (runner: QueryRunner | undefined) => {
    shared.clients?.settle(runner);
    shared.users?.settle(runner);
    shared.connections?.settle(runner);
  };
  const build = (db: EntityManager) => createRepositories(db, shared);
  const requests = createRequestTransactions(
    dataSource,
    build,
    revokeAfterTransaction(build(dataSource.manager)),
    settle,
  );
  return {
    dataSource,
    kv,
    /** Committed changes to the rows kept in memory; /readyz and the metrics read whether it is live. */
    changes,
    ...requests.repositories,
    /**
     * Runs `work` in one database transaction: every repository it is handed writes on that
     * transaction, so a change and the audit event that records it commit or fail together.
     * Inside a request transaction it is a savepoint of that one.
     */
    async transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
      let runner: QueryRunner | undefined;
      try {
        return await requests.transaction((tx) => {
          runner = tx.queryRunner;
          return work(build(tx));
        });
      } finally {
        // A savepoint inside a request transaction settles when that transaction ends.
        settle(runner);
      }
    },
    /** The whole of `work` as one transaction (request-transaction.ts): kept when `keep` says so. */
    inRequestTransaction: requests.run,
    /** For writes nobody awaits: they go through the pool, never a request's transaction. */
    outsideRequestTransaction: requests.outside,
  };
}

export type Storage = ReturnType<typeof createStorage>;

export interface OpenedStorage {
  storage: Storage;
  backend: 'postgres' | 'embedded';
  migrationsApplied: string[];
  close(): Promise<void>;
}

export interface OpenStorageOptions {
  migrate: boolean;
  /** The embedded database, already being opened by main.ts while it loaded the rest. */
  embedded?: Promise<EmbeddedPostgres>;
  /** For the migration that re-keys stored bearer tokens; needed only when there are any. */
  tokenDigest?: TokenDigest;
  /**
   * Keep client and user rows and the connections list in memory between requests, dropped on every committed change (the
   * server); without it every read goes to the database (the CLI, which lives for one command).
   */
  keepRows?: boolean;
}

/**
 * Opens PostgreSQL (DATABASE_URL) or the embedded database, applies migrations, and
 * connects Redis (REDIS_URL) or the in-process store.
 */
export async function openStorage(
  config: Config,
  options: OpenStorageOptions = { migrate: true },
): Promise<OpenedStorage> {
  let embedded: EmbeddedPostgres | undefined;
  let connection: PgConnection;
  let poolSize = config.storage.poolSize;
  const opening = options.embedded ?? openEmbeddedFor(config);
  if (!opening) {
    connection = { url: config.storage.databaseUrl };
  } else {
    const opened = await opening;
    embedded = opened;
    connection = opened.connection;
    // PGlite runs one statement at a time; a few connections only keep transactions apart.
    poolSize = Math.min(poolSize, 4);
  }
  let changes: ChangeFeed | undefined;
  const dataSource = createDataSource(connection, poolSize, {
    statementTimeoutSeconds: config.storage.statementTimeoutSeconds,
    // On the embedded database only its owner prepares (a CLI joining it through the socket does not).
    prepared: config.storage.preparedStatements && (embedded ? embedded.owned && 'per-connection' : true),
  });
  const kv = config.storage.redisUrl
    ? createRedisStore(config.storage.redisUrl, config.storage.redisKeyPrefix)
    : createMemoryStore();
  try {
    await dataSource.initialize();
    if (options.tokenDigest) setMigrationContext(dataSource, { tokenDigest: options.tokenDigest });
    const migrationsApplied = options.migrate ? await runMigrations(dataSource) : [];
    changes = !options.keepRows
      ? noChangeFeed()
      : embedded
        ? (embedded.changes ?? noChangeFeed())
        : postgresChangeFeed(config.storage.databaseUrl);
    const feed = changes;
    await feed.ready();
    return {
      storage: createStorage(dataSource, kv, feed),
      backend: embedded ? 'embedded' : 'postgres',
      migrationsApplied,
      async close() {
        await feed.close();
        await kv.close();
        if (dataSource.isInitialized) await dataSource.destroy();
        await embedded?.close();
      },
    };
  } catch (error) {
    await changes?.close();
    await kv.close();
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.close();
    throw error;
  }
}
