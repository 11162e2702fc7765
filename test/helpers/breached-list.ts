import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import {
  BREACHED_LIST_FILE,
  buildBreachedPasswordList,
  type BreachedPasswordList,
} from '../../src/accounts/breached-passwords.js';

/** Listed passwords the tests on this list expect refused (the check folds case: 'Password1234' too). */
const REFUSED_BY_TESTS = ['password1234'];

/** How many of the shipped list's first (most common) entries the small list keeps. */
const MOST_COMMON = 300;

let small: BreachedPasswordList | undefined;

/**
 * The test servers' breached-password list: the shipped list's most common entries (it is
 * ordered by frequency) and the passwords tests expect refused. Hashing all 415k entries costs
 * about a second of CPU in every jest file; the suites that prove the shipped list
 * (test/unit/breached-passwords.suite.ts, test/integration/passwords/password-policy.suite.ts) keep it.
 */
export function smallBreachedList(): BreachedPasswordList {
  if (!small) {
    const text = gunzipSync(readFileSync(BREACHED_LIST_FILE)).toString('utf8');
    const common = text.split('\n', MOST_COMMON);
    small = buildBreachedPasswordList(new TextEncoder().encode([...common, ...REFUSED_BY_TESTS].join('\n')));
  }
  return small;
}
