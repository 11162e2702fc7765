import type { DataSource, EntityManager } from 'typeorm';
import type { Config } from '../config/schema.js';
import { createDataSource, runMigrations, type PgConnection } from './data-source.js';
import type { EmbeddedPostgres } from './embedded-postgres.js';
import { createMemoryStore, createRedisStore, type KeyValueStore } from './key-value-store.js';
import { createOidcPayloadRepository } from './oidc-payload.repository.js';
import { createUsersRepository } from './users.repository.js';
import { createClientsRepository } from './clients.repository.js';
import { createSigningKeysRepository } from './signing-keys.repository.js';
import { createCredentialsRepository } from './credentials.repository.js';
import { createAuditRepository } from './audit.repository.js';
import { createRolesRepository } from './roles.repository.js';
import { createAccountLinksRepository } from './account-links.repository.js';

/** The repositories over one EntityManager: the pool's, or one transaction's. */
function createRepositories(db: EntityManager) {
  return {
    oidc: createOidcPayloadRepository(db),
    users: createUsersRepository(db),
    clients: createClientsRepository(db),
    signingKeys: createSigningKeysRepository(db),
    credentials: createCredentialsRepository(db),
    audit: createAuditRepository(db),
    roles: createRolesRepository(db),
    accountLinks: createAccountLinksRepository(db),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;

export function createStorage(dataSource: DataSource, kv: KeyValueStore) {
  return {
    dataSource,
    kv,
    ...createRepositories(dataSource.manager),
    /**
     * Runs `work` in one database transaction: every repository it is handed writes on that
     * transaction, so a change and the audit event that records it commit or fail together.
     */
    transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
      return dataSource.transaction((manager) => work(createRepositories(manager)));
    },
  };
}

export type Storage = ReturnType<typeof createStorage>;

export interface OpenedStorage {
  storage: Storage;
  backend: 'postgres' | 'embedded';
  migrationsApplied: string[];
  close(): Promise<void>;
}

/**
 * Opens PostgreSQL (DATABASE_URL) or the embedded database, applies migrations, and
 * connects Redis (REDIS_URL) or the in-process store.
 */
export async function openStorage(config: Config, options: { migrate: boolean } = { migrate: true }): Promise<OpenedStorage> {
  let embedded: EmbeddedPostgres | undefined;
  let connection: PgConnection;
  let poolSize = config.storage.poolSize;
  if (config.storage.databaseUrl) {
    connection = { url: config.storage.databaseUrl };
  } else {
    // Loaded only here: a process on PostgreSQL never needs PGlite (resident memory at boot).
    const { openEmbeddedPostgres } = await import('./embedded-postgres.js');
    embedded = await openEmbeddedPostgres(config.storage.dataDir);
    connection = embedded.connection;
    // PGlite runs one statement at a time; a few connections only keep transactions apart.
    poolSize = Math.min(poolSize, 4);
  }
  const dataSource = createDataSource(connection, poolSize);
  const kv = config.storage.redisUrl ? createRedisStore(config.storage.redisUrl, config.storage.redisKeyPrefix) : createMemoryStore();
  try {
    await dataSource.initialize();
    const migrationsApplied = options.migrate ? await runMigrations(dataSource) : [];
    return {
      storage: createStorage(dataSource, kv),
      backend: embedded ? 'embedded' : 'postgres',
      migrationsApplied,
      async close() {
        await kv.close();
        if (dataSource.isInitialized) await dataSource.destroy();
        await embedded?.close();
      },
    };
  } catch (error) {
    await kv.close();
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.close();
    throw error;
  }
}
