import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from '../../src/config/package-root.js';
import { LOCALES_DIR, loadLocaleMessages } from '../../src/i18n/catalogue.js';

/**
 * Every catalogue key our code names literally must exist in English: a missing key would
 * show as the key itself on a page. Dynamic keys (`events.${action}`) fall back on purpose
 * and are not checked here.
 */

function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, extension);
    return path.endsWith(extension) ? [path] : [];
  });
}

const english = loadLocaleMessages('en');
const namespaces = readdirSync(join(LOCALES_DIR, 'en'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length));
const keyShape = new RegExp(`^(?:${namespaces.join('|')})\\.[A-Za-z0-9_]+(?:\\.[A-Za-z0-9_]+)*$`);

/** Calls that take a key: t('…'), tStrong('…'), i18n.message('…'), and AppError messages. */
const KEY_CALLS = [/\b(?:t|tStrong|message)\(\s*'([^'$]+)'/g, /new AppError\(\s*'[^']*',\s*\d+,\s*'([^'$]+)'/g];
/** Where every quoted key-shaped string is a catalogue key (user-facing route code). */
const KEY_FOLDERS = ['src/web', 'src/http'];

function keysIn(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const found = KEY_CALLS.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[1] ?? ''));
  const rel = relative(packageRoot, path);
  if (KEY_FOLDERS.some((folder) => rel.startsWith(folder))) {
    found.push(...[...text.matchAll(/'([^'\s$]+)'/g)].map((m) => m[1] ?? ''));
  }
  return found.filter((key) => keyShape.test(key));
}

describe('catalogue keys used in code', () => {
  const sources = [...filesUnder(join(packageRoot, 'views'), '.ejs'), ...filesUnder(join(packageRoot, 'src'), '.ts')];

  it('finds the keys it is meant to check', () => {
    const all = sources.flatMap(keysIn);
    expect(all).toEqual(
      expect.arrayContaining(['login.title', 'errors.notFound', 'webauthn.challenge', 'account.notices.password']),
    );
  });

  it('every literal key exists in the English catalogue', () => {
    const missing = sources.flatMap((path) =>
      keysIn(path)
        .filter((key) => !english.has(key))
        .map((key) => `${relative(packageRoot, path)}: ${key}`),
    );
    expect(missing).toEqual([]);
  });

  it('a key that is not in the catalogue is reported', () => {
    expect(keyShape.test('login.noSuchMessage')).toBe(true);
    expect(english.has('login.noSuchMessage')).toBe(false);
  });
});
