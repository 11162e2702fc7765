import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import testSequencer from '@jest/test-sequencer';

const importedSuite = /^import '(\.\/[^']+\.suite)\.js';$/gm;

/**
 * A file's weight when jest has no timings for it (a fresh clone): its size, plus the size of
 * the suites it imports. Jest starts the biggest first so that the long ones do not finish last;
 * a file gathering a folder's suites (test/integration/tokens.test.ts) is a few import lines
 * and would otherwise start last.
 */
function weightOf(path) {
  const text = readFileSync(path, 'utf8');
  const suites = [...text.matchAll(importedSuite)].map((match) => join(dirname(path), `${match[1]}.ts`));
  return suites.reduce((sum, suite) => sum + statSync(suite).size, statSync(path).size);
}

/** Jest's own order (failed first, then untimed by weight, then slowest first), weighing gathered suites. */
export default class GatheredSuitesSequencer extends testSequencer.default {
  sort(tests) {
    const weights = new Map(tests.map((test) => [test.path, weightOf(test.path)]));
    for (const test of tests) test.duration = this.time(test);
    const rank = (test) => [this.hasFailed(test) ? 0 : 1, test.duration === undefined ? 0 : 1];
    return [...tests].sort((a, b) => {
      const [failedA, timedA] = rank(a);
      const [failedB, timedB] = rank(b);
      if (failedA !== failedB) return failedA - failedB;
      if (timedA !== timedB) return timedA - timedB;
      if (timedA) return (b.duration ?? 0) - (a.duration ?? 0);
      return (weights.get(b.path) ?? 0) - (weights.get(a.path) ?? 0);
    });
  }
}
