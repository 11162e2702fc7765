import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const testRoot = fileURLToPath(new URL('..', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

const files = filesUnder(testRoot).filter((file) => !file.includes('/fixtures/'));
const suites = files.filter((file) => file.endsWith('.suite.ts'));
/** A folder's suites run from the jest file beside it of the same name: test/integration/tokens.test.ts. */
const aggregatorOf = (folder: string) => `${folder}.test.ts`;
const importsOf = (aggregator: string) =>
  [...readFileSync(aggregator, 'utf8').matchAll(/^import '(\.\/[^']+)\.js';$/gm)].map((match) =>
    join(dirname(aggregator), `${match[1] ?? ''}.ts`),
  );

/**
 * Suites gathered into one jest file per folder (docs/decisions.md, "Test suite") run only if
 * that file imports them: a suite left out would pass by never running.
 */
describe('the test layout', () => {
  it('runs every suite: each is imported by the jest file of its folder', () => {
    expect(suites.length).toBeGreaterThan(100);
    const missing = suites.filter((suite) => {
      const aggregator = aggregatorOf(dirname(suite));
      return !existsSync(aggregator) || !importsOf(aggregator).includes(suite);
    });
    expect(missing.map((suite) => relative(testRoot, suite))).toEqual([]);
  });

  it('imports only suites that exist, from the folder of the same name', () => {
    const aggregators = [...new Set(suites.map((suite) => aggregatorOf(dirname(suite))))];
    const wrong = aggregators.flatMap((aggregator) =>
      importsOf(aggregator).filter(
        (imported) =>
          !existsSync(imported) ||
          !imported.endsWith('.suite.ts') ||
          dirname(imported) !== aggregator.slice(0, -'.test.ts'.length),
      ),
    );
    expect(wrong.map((file) => relative(testRoot, file))).toEqual([]);
  });

  it('keeps jest files out of a folder whose suites are gathered (they would run twice as slowly, or not be listed)', () => {
    const gathered = new Set(suites.map((suite) => dirname(suite)));
    const stray = files.filter((file) => file.endsWith('.test.ts') && gathered.has(dirname(file)));
    expect(stray.map((file) => relative(testRoot, file))).toEqual([]);
  });
});
