import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDataSource, runMigrations } from './data-source.js';
import { openEmbeddedPostgres } from './embedded-postgres.js';
import { TEMPLATE_MARKER, currentMarker } from './embedded-template.js';

/** Makes templateDir a migrated, empty embedded database; replaces whatever was there. */
export async function buildEmbeddedTemplate(templateDir: string): Promise<void> {
  const building = `${templateDir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true, mode: 0o700 });
  try {
    const embedded = await openEmbeddedPostgres(building, { template: null });
    // Two connections: runMigrations holds one for its advisory lock while TypeORM migrates on the other.
    const dataSource = createDataSource(embedded.connection, 2);
    try {
      await dataSource.initialize();
      await runMigrations(dataSource);
      // Gatehouse never creates databases, so the two template databases initdb made are 14 of
      // the 39 MiB that every first start would copy (docs/decisions.md, "Embedded template").
      await dataSource.query(
        `UPDATE pg_database SET datistemplate = false WHERE datname IN ('template0', 'template1')`,
      );
      await dataSource.query('DROP DATABASE template0');
      await dataSource.query('DROP DATABASE template1');
      await dataSource.query('CHECKPOINT');
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded.close();
    }
    writeFileSync(join(building, TEMPLATE_MARKER), `${JSON.stringify(currentMarker(), null, 2)}\n`);
    rmSync(templateDir, { recursive: true, force: true });
    renameSync(building, templateDir);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error;
  }
}
