import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEmbeddedTemplate } from '../../src/storage/build-embedded-template.js';
import { seedFromTemplate } from '../../src/storage/embedded-template.js';

/**
 * Each jest worker builds the embedded template once (tests run from src/, so the build's
 * dist/embedded-template may be missing or stale) and seeds every new data directory from it,
 * the way a first start does.
 */
let template: Promise<string> | undefined;

async function buildTemplate(): Promise<string> {
  const dir = join(tmpdir(), `gh-template-${process.pid}`);
  await buildEmbeddedTemplate(dir);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Puts a ready, migrated embedded database into dataDir/pg. */
export async function seedEmbeddedDatabase(dataDir: string): Promise<void> {
  const dir = await (template ??= buildTemplate());
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!(await seedFromTemplate(dataDir, dir))) throw new Error(`embedded template ${dir} was not usable for ${dataDir}`);
}
