import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { packageRoot } from '../config/package-root.js';
import { allMigrations } from '../../migrations/index.js';

/**
 * A fresh embedded database costs PGlite an initdb in WebAssembly plus every migration,
 * seconds that dominated the embedded default's first start. The build makes one migrated,
 * empty database (schema only: no keys, users or clients, which every install makes for
 * itself at boot) and a first start copies it instead. docs/decisions.md, "Embedded template".
 */

/** Where `npm run build` puts the template, beside the compiled code it belongs to. */
export const PACKAGED_TEMPLATE = join(packageRoot, 'dist', 'embedded-template');

const SEEDING_PREFIX = 'pg.seeding-';
export const TEMPLATE_MARKER = 'template.json';

export interface TemplateMarker {
  /** PGlite's version: its data files are only known to open with the PGlite that wrote them. */
  pglite: string;
  /** Migrations applied in the template; any later ones run at boot as usual. */
  migrations: string[];
}

function installedPgliteVersion(): string {
  // The package's exports hide package.json; walk up from its entry point instead.
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

export function currentMarker(): TemplateMarker {
  return { pglite: installedPgliteVersion(), migrations: allMigrations.map((migration) => migration.name) };
}

function readMarker(templateDir: string): TemplateMarker | undefined {
  try {
    return JSON.parse(readFileSync(join(templateDir, TEMPLATE_MARKER), 'utf8')) as TemplateMarker;
  } catch {
    return undefined;
  }
}

/** True when templateDir holds a template this installation's PGlite wrote. */
export function usableTemplate(templateDir: string): boolean {
  const marker = readMarker(templateDir);
  return marker !== undefined && marker.pglite === installedPgliteVersion() && existsSync(join(templateDir, 'pg', 'PG_VERSION'));
}

/** True when templateDir already holds the template the current code and PGlite would build. */
export function templateIsCurrent(templateDir: string): boolean {
  const marker = readMarker(templateDir);
  return usableTemplate(templateDir) && JSON.stringify(marker?.migrations) === JSON.stringify(currentMarker().migrations);
}

/**
 * The template's ~1,000 files copied with every file in flight at once: the copy runs on
 * libuv's threads while the main thread loads modules (src/main.ts opens the database first).
 * `fs.promises.cp` copies one file after another and took 1 s here against 0.6 s.
 */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { mode: 0o700 });
  const entries = await readdir(from, { withFileTypes: true });
  await Promise.all(entries.map((entry) => (entry.isDirectory()
    ? copyTree(join(from, entry.name), join(to, entry.name))
    : copyFile(join(from, entry.name), join(to, entry.name)))));
}

/**
 * Copies the template's database into dataDir/pg when dataDir has none yet. The copy is made
 * beside it and renamed into place, so a start killed mid-copy leaves no half database that
 * would later look like a real one. Returns whether it seeded.
 */
export async function seedFromTemplate(dataDir: string, templateDir: string): Promise<boolean> {
  const target = join(dataDir, 'pg');
  if (existsSync(target) || !usableTemplate(templateDir)) return false;
  // A start killed mid-copy left its partial copy; nothing else uses these names.
  for (const name of readdirSync(dataDir)) {
    if (name.startsWith(SEEDING_PREFIX)) rmSync(join(dataDir, name), { recursive: true, force: true });
  }
  const copying = join(dataDir, `${SEEDING_PREFIX}${process.pid}`);
  try {
    await copyTree(join(templateDir, 'pg'), copying);
    renameSync(copying, target);
  } catch (error) {
    rmSync(copying, { recursive: true, force: true });
    // Another process seeded the same directory first: its copy is as good as ours.
    if (existsSync(target)) return false;
    throw error;
  }
  return true;
}
