import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
const foldersIn = (path: string): string[] =>
  readdirSync(join(root, path), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

/** docs/architecture.md is the map of src/ (issue 16): a folder it does not name is a folder nobody explained. */
describe('docs/architecture.md matches the tree', () => {
  it('names every folder under src/ and every URL folder under src/web/', () => {
    const folders = [
      ...foldersIn('src').filter((name) => name !== 'web'),
      ...foldersIn('src/web').map((name) => `web/${name}`),
    ];
    expect(folders.length).toBeGreaterThan(10);
    const unnamed = folders.filter((folder) => !doc.includes(`\`${folder}/\``));
    expect(unnamed).toEqual([]);
  });

  it('names no folder that is gone', () => {
    const named = [...doc.matchAll(/\*\*`((?:web\/)?[a-z-]+)\/`\*\*/g)].map((match) => match[1] ?? '');
    expect(named.length).toBeGreaterThan(10);
    const existing = new Set([...foldersIn('src'), ...foldersIn('src/web').map((name) => `web/${name}`)]);
    expect(named.filter((folder) => !existing.has(folder))).toEqual([]);
  });
});
