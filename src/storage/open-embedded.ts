import type { Config } from '../config/schema.js';
import type { EmbeddedPostgres } from './embedded-postgres.js';

/**
 * Opens the embedded database when the configuration uses it (no DATABASE_URL). PGlite is
 * imported only here, so a process on PostgreSQL never loads it (resident memory at boot);
 * main.ts calls this before importing the rest of the code, and openStorage when it was not.
 */
export function openEmbeddedFor(config: Pick<Config, 'storage'>): Promise<EmbeddedPostgres> | undefined {
  if (config.storage.databaseUrl) return undefined;
  const { dataDir } = config.storage;
  return import('./embedded-postgres.js').then(({ openEmbeddedPostgres }) => openEmbeddedPostgres(dataDir));
}
