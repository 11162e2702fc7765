import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { packageRoot } from '../../src/config/package-root.js';
import { createDataSource, runMigrations } from '../../src/storage/data-source.js';
import { setMigrationContext } from '../../src/storage/migration-context.js';
import { createTokenDigest } from '../../src/security/token-digest.js';
import { POSTGRES_ADMIN_URL } from './backends.js';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, uniquely named database for one test server; dropped afterwards.
 *
 * `migrated: true` copies it from a template database that already holds every migration
 * (PostgreSQL copies a template in the time it creates an empty database): a test server's boot
 * then finds nothing to migrate instead of running the whole history, ~0.25 s of PostgreSQL's
 * CPU per boot, for ~200 boots a run. The tests of migrating itself keep an empty database.
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `gh_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    const template = options.migrated ? await migratedTemplate(admin) : undefined;
    await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
    // A test database is thrown away: a commit need not wait for its WAL to reach the disk (a
    // crash could lose the last commits, never corrupt). Every test's writes waited on an fsync.
    await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  } finally {
    await admin.end();
  }
  const url = urlOf(name);
  return {
    url,
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

function urlOf(database: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Named by the migrations' contents, so a changed or added migration gets a template of its own. */
function templateName(): string {
  const dir = join(packageRoot, 'migrations');
  const digest = createHash('sha256');
  for (const file of readdirSync(dir).sort()) digest.update(file).update(readFileSync(join(dir, file)));
  return `gh_template_${digest.digest('hex').slice(0, 16)}`;
}

// Any constant: only test processes building the template take it.
const TEMPLATE_LOCK = 727_274_099;

/**
 * The template database, built once per set of migrations by whichever test process asks first
 * (the others wait on the advisory lock). It is migrated under another name and renamed when
 * complete, so a run killed halfway never leaves a half-migrated template behind.
 */
async function migratedTemplate(admin: pg.Client): Promise<string> {
  const name = templateName();
  const exists = async () => (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  if (await exists()) {
    await refuseConnections(admin, name);
    return name;
  }
  await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
  try {
    if (await exists()) return name;
    const building = `${name}_building`;
    await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${building}`);
    const dataSource = createDataSource({ url: urlOf(building) }, 2);
    await dataSource.initialize();
    try {
      setMigrationContext(dataSource, { tokenDigest: createTokenDigest(randomBytes(32)) });
      await runMigrations(dataSource);
    } finally {
      await dataSource.destroy();
    }
    await admin.query(`ALTER DATABASE ${building} WITH ALLOW_CONNECTIONS false`);
    await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
    return name;
  } finally {
    await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
  }
}

/**
 * PostgreSQL copies a template only while no other session is connected to it, waiting 5 s at
 * most: a session left open on the template (a psql, a tool browsing the databases) failed the
 * boots of whole describe blocks on a shared machine. Nobody needs to connect to the template.
 * Templates built before this get the setting on first use.
 */
const refusing = new Set<string>();
async function refuseConnections(admin: pg.Client, name: string): Promise<void> {
  if (refusing.has(name)) return;
  await admin.query(
    `DO $$ BEGIN IF (SELECT datallowconn FROM pg_database WHERE datname = '${name}') THEN ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false; END IF; END $$`,
  );
  refusing.add(name);
}
