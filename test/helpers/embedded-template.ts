import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEmbeddedTemplate } from '../../src/storage/build-embedded-template.js';
import { PACKAGED_TEMPLATE, seedFromTemplate, templateIsCurrent } from '../../src/storage/embedded-template.js';

/**
 * Every new data directory is seeded from the embedded template, the way a first start is:
 * the build's dist/embedded-template when it is current, else one each jest worker builds
 * once (tests run from src/, so the build's may be missing or stale).
 */
let template: Promise<string> | undefined;

async function buildTemplate(): Promise<string> {
  // `npm run build` (CI runs it first) made the same template already.
  if (templateIsCurrent(PACKAGED_TEMPLATE)) return PACKAGED_TEMPLATE;
  const dir = join(tmpdir(), `gh-template-${process.pid}`);
  await buildEmbeddedTemplate(dir);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Puts a ready, migrated embedded database into dataDir/pg. */
export async function seedEmbeddedDatabase(dataDir: string): Promise<void> {
  const dir = await (template ??= buildTemplate());
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!(await seedFromTemplate(dataDir, dir)))
    throw new Error(`embedded template ${dir} was not usable for ${dataDir}`);
}
