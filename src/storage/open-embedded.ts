import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { EmbeddedPostgres } from './embedded-postgres.js';

export interface OpenEmbeddedOptions {
  /**
   * The server's start: hold the data directory's lock (src/storage/data-dir-lock.ts) for as
   * long as the database is open, so that a second server on the same DATA_DIR refuses to start.
   */
  exclusive?: boolean;
}

/**
 * Opens the embedded database when the configuration uses it (no DATABASE_URL). PGlite is
 * imported only here, so a process on PostgreSQL never loads it (resident memory at boot);
 * main.ts calls this before importing the rest of the code, and openStorage when it was not.
 */
export function openEmbeddedFor(
  config: Pick<Config, 'storage'>,
  options: OpenEmbeddedOptions = {},
): Promise<EmbeddedPostgres> | undefined {
  if (config.storage.databaseUrl) return undefined;
  const { dataDir } = config.storage;
  return (async () => {
    const lock = options.exclusive ? (await import('./data-dir-lock.js')).lockDataDir(dataDir) : undefined;
    try {
      const { openEmbeddedPostgres } = await import('./embedded-postgres.js');
      const embedded = await openEmbeddedPostgres(dataDir);
      if (!lock) return embedded;
      return {
        ...embedded,
        async close() {
          try {
            await embedded.close();
          } finally {
            lock.release();
          }
        },
      };
    } catch (error) {
      lock?.release();
      throw error;
    }
  })();
}

/**
 * Whether dataDir holds an embedded database (PGlite writes PG_VERSION when it creates one).
 * The CLI checks it before anything creates files there: a mistyped DATA_DIR would otherwise
 * get an empty database and answer "(none)" to every question.
 */
export function embeddedDataExists(dataDir: string): boolean {
  return existsSync(join(dataDir, 'pg', 'PG_VERSION'));
}
