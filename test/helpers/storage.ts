import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { Config, ConfigOverrides } from '../../src/config/schema.js';
import { openStorage, type OpenedStorage } from '../../src/storage/storage.js';
import { createTokenDigest, type TokenDigest } from '../../src/security/token-digest.js';
import type { Backend } from './backends.js';
import { BOOT_TIMEOUT, REDIS_URL, TEST_ARGON2, freshRedisKeyPrefix } from './backends.js';
import { createTestDatabase } from './postgres.js';
import { seedEmbeddedDatabase } from './embedded-template.js';
import { createClientRegistry } from '../../src/clients/client-registry.js';
import type { ClientsRepository } from '../../src/storage/clients.repository.js';
import type { ChangeFeed } from '../../src/storage/change-feed.js';

/**
 * A configuration on a fresh store: a new embedded directory, or a new PostgreSQL database
 * plus the real Redis under a fresh key prefix. `dispose` drops the database and the directory
 * (close what was opened on them first).
 */
export async function freshStoreConfig(
  backend: Backend,
  overrides: ConfigOverrides = {},
): Promise<{ config: Config; dispose(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-'));
  const database = backend === 'postgres' ? await createTestDatabase({ migrated: true }) : undefined;
  if (backend === 'embedded') await seedEmbeddedDatabase(dataDir);
  const config = loadConfig(
    {},
    {
      ...overrides,
      passwords: { argon2: TEST_ARGON2, ...overrides.passwords },
      storage: {
        ...overrides.storage,
        dataDir,
        databaseUrl: database?.url ?? '',
        redisUrl: backend === 'postgres' ? REDIS_URL : '',
        redisKeyPrefix: freshRedisKeyPrefix(),
      },
    },
  );
  return {
    config,
    async dispose() {
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Storage alone (no HTTP server) on a fresh embedded directory or PostgreSQL database. */
export async function openTestStorage(
  backend: Backend,
  options: { keepRows?: boolean; overrides?: ConfigOverrides } = {},
): Promise<OpenedStorage & { config: Config; tokenDigest: TokenDigest; dispose(): Promise<void> }> {
  const store = await freshStoreConfig(backend, options.overrides);
  // As the server derives it from its key-encryption secret: here from a random one.
  const tokenDigest = createTokenDigest(randomBytes(32));
  const opened = await openStorage(store.config, { migrate: true, tokenDigest, keepRows: options.keepRows });
  return {
    ...opened,
    config: store.config,
    tokenDigest,
    async dispose() {
      await opened.close();
      await store.dispose();
    },
  };
}

type TestStorage = Awaited<ReturnType<typeof openTestStorage>>;

/**
 * One storage for the enclosing describe: opened before its tests, disposed after them. Returns
 * a getter, since the storage exists only once beforeAll has run.
 */
export function useTestStorage(
  backend: Backend,
  options: Parameters<typeof openTestStorage>[1] = {},
): () => TestStorage {
  let opened: TestStorage | undefined;
  beforeAll(async () => {
    opened = await openTestStorage(backend, options);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await opened?.dispose();
  });
  return () => {
    if (!opened) throw new Error('the test storage is not open (used outside a test?)');
    return opened;
  };
}

/** A confidential code-flow client registered straight through storage: its id. */
export async function registerStorageClient(clients: ClientsRepository, name: string): Promise<string> {
  const { client } = await createClientRegistry(clients).register({
    name,
    redirectUris: ['https://rp.example.test/cb'],
    postLogoutRedirectUris: [],
    public: false,
    firstParty: false,
    grantTypes: ['authorization_code'],
    scope: 'openid',
  });
  return client.id;
}

/** A connection that is not the storage's: another replica, the CLI or an operator's psql. */
export function otherWriter(backend: Backend, config: Config): pg.Client {
  return backend === 'postgres'
    ? new pg.Client({ connectionString: config.storage.databaseUrl })
    : new pg.Client({ host: config.storage.dataDir, port: 5432, user: 'postgres', database: 'postgres' });
}

/**
 * Resolves when `feed` has announced a change to the row `id` of `table` (PostgreSQL delivers it
 * after the commit): ask for it before making the change.
 */
export function announcement(feed: ChangeFeed, table: string, id: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = feed.subscribe((event) => {
      if (event !== 'reset' && event.table === table && event.id === id) {
        stop();
        resolve();
      }
    });
  });
}
