import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { openStorage, type OpenedStorage } from '../../src/storage/storage.js';
import type { Backend } from './backends.js';
import { REDIS_URL, freshRedisKeyPrefix } from './backends.js';
import { createTestDatabase } from './postgres.js';
import { seedEmbeddedDatabase } from './embedded-template.js';

/** Storage alone (no HTTP server) on a fresh embedded directory or PostgreSQL database. */
export async function openTestStorage(backend: Backend): Promise<OpenedStorage & { dispose(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-'));
  const database = backend === 'postgres' ? await createTestDatabase() : undefined;
  if (backend === 'embedded') await seedEmbeddedDatabase(dataDir);
  const config = loadConfig({}, {
    storage: { dataDir, databaseUrl: database?.url ?? '', redisUrl: backend === 'postgres' ? REDIS_URL : '', redisKeyPrefix: freshRedisKeyPrefix() },
  });
  const opened = await openStorage(config);
  return {
    ...opened,
    async dispose() {
      await opened.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
