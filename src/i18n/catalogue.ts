import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/package-root.js';
import { DEFAULT_LOCALE, SUPPORTED_LOCALES, type Locale } from './locale.js';

type Messages = ReadonlyMap<string, string>;
export type MessageParams = Record<string, string | number>;

/** Every message of one language, keyed `<file>.<path>` (views/locales/<lang>/<file>.json). */
export interface Catalogue {
  messages(locale: Locale): Messages;
  /** The text for a key in a language (English when the language lacks it), `{name}` filled in. */
  translate(locale: Locale, key: string, params?: MessageParams): string;
  has(key: string): boolean;
}

export const LOCALES_DIR = join(packageRoot, 'views', 'locales');

function flatten(prefix: string, node: unknown, into: Map<string, string>, file: string): void {
  if (typeof node === 'string') {
    into.set(prefix, node);
    return;
  }
  if (typeof node !== 'object' || node === null || Array.isArray(node)) {
    throw new Error(`${file}: ${prefix} must be a string or an object of strings`);
  }
  for (const [key, value] of Object.entries(node)) flatten(`${prefix}.${key}`, value, into, file);
}

export function loadLocaleMessages(locale: Locale, dir = LOCALES_DIR): Map<string, string> {
  const messages = new Map<string, string>();
  const localeDir = join(dir, locale);
  for (const file of readdirSync(localeDir)
    .filter((name) => name.endsWith('.json'))
    .sort()) {
    const path = join(localeDir, file);
    flatten(file.slice(0, -'.json'.length), JSON.parse(readFileSync(path, 'utf8')) as unknown, messages, path);
  }
  return messages;
}

export function fillIn(template: string, params: MessageParams = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** Loaded once at boot: a catalogue file that is not valid JSON stops the start. */
export function loadCatalogue(dir = LOCALES_DIR): Catalogue {
  const byLocale = new Map(SUPPORTED_LOCALES.map((locale) => [locale, loadLocaleMessages(locale, dir)] as const));
  const fallback = byLocale.get(DEFAULT_LOCALE) ?? new Map<string, string>();
  return {
    messages: (locale) => byLocale.get(locale) ?? fallback,
    translate(locale, key, params) {
      // An unknown key is shown as itself: a mistake stays visible without breaking the page.
      const template = byLocale.get(locale)?.get(key) ?? fallback.get(key) ?? key;
      return fillIn(template, params);
    },
    has: (key) => fallback.has(key),
  };
}
