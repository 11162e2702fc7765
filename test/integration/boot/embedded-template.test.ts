import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allMigrations } from '../../../migrations/index.js';
import { buildEmbeddedTemplate } from '../../../src/storage/build-embedded-template.js';
import { createDataSource, runMigrations } from '../../../src/storage/data-source.js';
import { openEmbeddedPostgres } from '../../../src/storage/embedded-postgres.js';
import { seedFromTemplate, templateIsCurrent, usableTemplate } from '../../../src/storage/embedded-template.js';

/** The pid of a process that has exited: what a start killed mid-copy leaves its copy named for. */
function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', () => (child.pid === undefined ? reject(new Error('no pid')) : resolve(child.pid)));
  });
}

/**
 * A fresh embedded data directory starts as a copy of the build's migrated, empty database
 * instead of running initdb; a database already there is never touched, and a template that
 * another PGlite wrote is not used.
 */
describe('the embedded database template', () => {
  let root: string;
  let template: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'gh-tpl-test-'));
    template = join(root, 'template');
    await buildEmbeddedTemplate(template);
  }, 120_000);
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** Opens dataDir the way a start does, applies migrations, and runs `sql` before closing. */
  async function start(dataDir: string, options: { template: string | null }, sql?: string) {
    const embedded = await openEmbeddedPostgres(dataDir, options);
    const dataSource = createDataSource(embedded.connection, 2);
    try {
      await dataSource.initialize();
      const applied = await runMigrations(dataSource);
      const rows = sql === undefined ? [] : ((await dataSource.query(sql)) as Record<string, unknown>[]);
      return { applied, rows };
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded.close();
    }
  }

  it('is built current, and a fresh data directory started from it has every migration and no data', async () => {
    expect(templateIsCurrent(template)).toBe(true);
    const dataDir = join(root, 'fresh');
    const { applied, rows } = await start(
      dataDir,
      { template },
      `SELECT
      (SELECT count(*)::int FROM signing_keys) AS keys, (SELECT count(*)::int FROM clients) AS clients,
      (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM oidc_payloads) AS payloads`,
    );
    expect(applied).toEqual([]);
    expect(rows).toEqual([{ keys: 0, clients: 0, users: 0, payloads: 0 }]);
    const databases = await start(dataDir, { template }, 'SELECT datname FROM pg_database ORDER BY datname');
    expect(databases.rows).toEqual([{ datname: 'postgres' }]);
    expect(readdirSync(dataDir).filter((name) => name !== 'pg')).toEqual([]);
  }, 60_000);

  it('never replaces a database that is already there', async () => {
    const dataDir = join(root, 'existing');
    await start(
      dataDir,
      { template },
      `INSERT INTO roles (name, description) VALUES ('kept', 'written before the restart')`,
    );
    const { applied, rows } = await start(dataDir, { template }, `SELECT name FROM roles WHERE name = 'kept'`);
    expect(applied).toEqual([]);
    expect(rows).toEqual([{ name: 'kept' }]);
    expect(await seedFromTemplate(dataDir, template)).toBe(false);
  }, 60_000);

  it('removes a partial copy a killed start left behind and seeds again', async () => {
    const dataDir = join(root, 'interrupted');
    const dead = await exitedPid();
    mkdirSync(join(dataDir, `pg.seeding-${dead}`), { recursive: true });
    writeFileSync(join(dataDir, `pg.seeding-${dead}`, 'PG_VERSION'), 'half a copy');
    expect(await seedFromTemplate(dataDir, template)).toBe(true);
    expect(readdirSync(dataDir)).toEqual(['pg']);
    expect(readFileSync(join(dataDir, 'pg', 'PG_VERSION'), 'utf8')).toBe(
      readFileSync(join(template, 'pg', 'PG_VERSION'), 'utf8'),
    );
  });

  it('leaves alone the copy a process still running is making', async () => {
    const dataDir = join(root, 'racing');
    const running = join(dataDir, `pg.seeding-${process.ppid}`);
    mkdirSync(running, { recursive: true });
    expect(await seedFromTemplate(dataDir, template)).toBe(true);
    expect(readdirSync(dataDir).sort()).toEqual(['pg', `pg.seeding-${process.ppid}`]);
  });

  it('is not used when another PGlite wrote it or it is missing: the start runs initdb and every migration', async () => {
    const foreign = join(root, 'foreign-template');
    mkdirSync(join(foreign, 'pg'), { recursive: true });
    writeFileSync(join(foreign, 'pg', 'PG_VERSION'), readFileSync(join(template, 'pg', 'PG_VERSION')));
    const marker = JSON.parse(readFileSync(join(template, 'template.json'), 'utf8')) as { pglite: string };
    writeFileSync(join(foreign, 'template.json'), JSON.stringify({ ...marker, pglite: '0.0.1' }));
    expect(usableTemplate(foreign)).toBe(false);
    expect(usableTemplate(join(root, 'no-such-template'))).toBe(false);
    const garbled = join(root, 'garbled-template');
    mkdirSync(join(garbled, 'pg'), { recursive: true });
    writeFileSync(join(garbled, 'pg', 'PG_VERSION'), readFileSync(join(template, 'pg', 'PG_VERSION')));
    for (const text of ['{"pglite": 5, "migrations": []}', `{"pglite": "${marker.pglite}"}`, 'not json']) {
      writeFileSync(join(garbled, 'template.json'), text);
      expect({ text, usable: usableTemplate(garbled) }).toEqual({ text, usable: false });
    }

    const dataDir = join(root, 'from-initdb');
    const { applied } = await start(dataDir, { template: foreign });
    expect(applied).toHaveLength(allMigrations.length);
    expect(existsSync(join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
  }, 120_000);

  it('counts as stale once the migrations differ from the ones it holds', () => {
    const stale = join(root, 'stale-template');
    rmSync(stale, { recursive: true, force: true });
    mkdirSync(join(stale, 'pg'), { recursive: true });
    writeFileSync(join(stale, 'pg', 'PG_VERSION'), readFileSync(join(template, 'pg', 'PG_VERSION')));
    const marker = JSON.parse(readFileSync(join(template, 'template.json'), 'utf8')) as { migrations: string[] };
    writeFileSync(
      join(stale, 'template.json'),
      JSON.stringify({ ...marker, migrations: marker.migrations.slice(0, -1) }),
    );
    // Still usable (a start applies the missing migration), but the build makes it again.
    expect(usableTemplate(stale)).toBe(true);
    expect(templateIsCurrent(stale)).toBe(false);
  });
});
