import { cpSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedPostgres } from '../../src/storage/embedded-postgres.js';
import { createDataSource, runMigrations } from '../../src/storage/data-source.js';
import { allMigrations } from '../../migrations/index.js';

/**
 * PGlite's first start (initdb in WebAssembly) takes seconds; under a loaded machine it
 * dominated every embedded test server's boot. Each jest worker makes one migrated database
 * once and copies it into every new data directory instead.
 */
let template: Promise<string> | undefined;

async function buildTemplate(): Promise<string> {
  const version = allMigrations.map((m) => m.name).join('-').length;
  const dir = join(tmpdir(), `gh-template-${process.pid}-${allMigrations.length}-${version}`);
  const building = `${dir}.building`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true, mode: 0o700 });
  const embedded = await openEmbeddedPostgres(building);
  // Two connections: runMigrations holds one for its advisory lock while TypeORM migrates on the other.
  const dataSource = createDataSource(embedded.connection, 2);
  try {
    await dataSource.initialize();
    await runMigrations(dataSource);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded.close();
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Puts a ready, migrated embedded database into dataDir/pg. */
export async function seedEmbeddedDatabase(dataDir: string): Promise<void> {
  const dir = await (template ??= buildTemplate());
  cpSync(join(dir, 'pg'), join(dataDir, 'pg'), { recursive: true });
}
