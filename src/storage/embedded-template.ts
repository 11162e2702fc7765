import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { packageRoot } from '../config/package-root.js';
import { parseJson } from '../typed-json.js';
import { allMigrations } from '../../migrations/index.js';
import { processRuns } from './data-dir-lock.js';

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

const markerSchema = z.object({
  /** PGlite's version: its data files are only known to open with the PGlite that wrote them. */
  pglite: z.string(),
  /** Migrations applied in the template; later ones run at boot as usual. */
  migrations: z.array(z.string()),
});

export type TemplateMarker = z.infer<typeof markerSchema>;

const packageVersion = z.object({ version: z.string() });

function readPgliteVersion(): string {
  // The package's exports hide package.json; walk up from its entry point instead.
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return packageVersion.parse(parseJson(readFileSync(join(dir, 'package.json'), 'utf8'))).version;
}

// Read once: the build asks for it twice, and the installed package does not change under a process.
let pgliteVersion: string | undefined;
const installedPgliteVersion = (): string => (pgliteVersion ??= readPgliteVersion());

export function currentMarker(): TemplateMarker {
  return { pglite: installedPgliteVersion(), migrations: allMigrations.map((migration) => migration.name) };
}

/** The template's marker, if it has a readable one whose PGlite is this installation's, and a database. */
function usableMarker(templateDir: string): TemplateMarker | undefined {
  let marker: TemplateMarker;
  try {
    marker = markerSchema.parse(parseJson(readFileSync(join(templateDir, TEMPLATE_MARKER), 'utf8')));
  } catch {
    return undefined;
  }
  return marker.pglite === installedPgliteVersion() && existsSync(join(templateDir, 'pg', 'PG_VERSION'))
    ? marker
    : undefined;
}

/** True when templateDir holds a template this installation's PGlite wrote. */
export function usableTemplate(templateDir: string): boolean {
  return usableMarker(templateDir) !== undefined;
}

/** True when templateDir already holds the template the current code and PGlite would build. */
export function templateIsCurrent(templateDir: string): boolean {
  const marker = usableMarker(templateDir);
  return marker !== undefined && JSON.stringify(marker.migrations) === JSON.stringify(currentMarker().migrations);
}

/**
 * The template's ~1,000 files copied with every file in flight at once: the copy runs on
 * libuv's threads while the main thread loads modules (src/main.ts opens the database first).
 * `fs.promises.cp` copies one file after another and took 1 s here against 0.6 s.
 */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { mode: 0o700 });
  const entries = await readdir(from, { withFileTypes: true });
  await Promise.all(
    entries.map((entry) =>
      entry.isDirectory()
        ? copyTree(join(from, entry.name), join(to, entry.name))
        : copyFile(join(from, entry.name), join(to, entry.name)),
    ),
  );
}

/**
 * Copies the template's database into dataDir/pg when dataDir has none yet. The copy is made
 * beside it and renamed into place, so a start killed mid-copy leaves no half database that
 * would later look like a real one. Returns whether it seeded.
 */
export async function seedFromTemplate(dataDir: string, templateDir: string): Promise<boolean> {
  const target = join(dataDir, 'pg');
  if (existsSync(target) || !usableTemplate(templateDir)) return false;
  // A start killed mid-copy left its partial copy, named for its pid. One of a process still
  // running is its copy in progress and stays (our own pid's is a killed earlier start's: in
  // a container every start may be pid 1).
  for (const name of readdirSync(dataDir)) {
    if (!name.startsWith(SEEDING_PREFIX)) continue;
    const pid = Number(name.slice(SEEDING_PREFIX.length));
    if (pid === process.pid || !processRuns(pid)) rmSync(join(dataDir, name), { recursive: true, force: true });
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
