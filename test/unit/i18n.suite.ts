import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { negotiateLocale, SUPPORTED_LOCALES } from '../../src/i18n/locale.js';
import { fillIn, loadCatalogue, loadLocaleMessages } from '../../src/i18n/catalogue.js';
import { createTranslator } from '../../src/i18n/translator.js';

describe('page language', () => {
  test.each([
    [{ uiLocales: 'de' }, 'de'],
    [{ uiLocales: 'fr de-CH en' }, 'de'],
    [{ uiLocales: 'fr', acceptLanguage: 'de-DE,de;q=0.9' }, 'de'],
    [{ acceptLanguage: 'fr-FR, de;q=0.5, en;q=0.7' }, 'en'],
    [{ acceptLanguage: 'de;q=0, en' }, 'en'],
    [{ acceptLanguage: 'DE-at' }, 'de'],
    [{ acceptLanguage: '*' }, 'en'],
    [{ acceptLanguage: ';;;q=x,,' }, 'en'],
    [{}, 'en'],
  ])('%j → %s', (input, expected) => {
    expect(negotiateLocale(input)).toBe(expected);
  });
});

describe('message catalogues', () => {
  test('every language has exactly the keys English has', () => {
    const english = [...loadLocaleMessages('en').keys()].sort();
    expect(english.length).toBeGreaterThan(0);
    for (const locale of SUPPORTED_LOCALES) {
      expect([...loadLocaleMessages(locale).keys()].sort()).toEqual(english);
    }
  });

  test('every placeholder of an English message is kept in its translation', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const english = loadLocaleMessages('en');
    for (const locale of SUPPORTED_LOCALES) {
      for (const [key, text] of loadLocaleMessages(locale)) {
        expect({ key, placeholders: placeholders(text) }).toEqual({
          key,
          placeholders: placeholders(english.get(key) ?? ''),
        });
      }
    }
  });

  test('fills in parameters and leaves unknown ones visible', () => {
    expect(fillIn('Hello {name}, {missing}', { name: 'Ada' })).toBe('Hello Ada, {missing}');
  });

  test('falls back to English, then to the key itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-i18n-'));
    mkdirSync(join(dir, 'en'));
    mkdirSync(join(dir, 'de'));
    writeFileSync(join(dir, 'en', 'page.json'), JSON.stringify({ title: 'Title', nested: { hello: 'Hello {who}' } }));
    writeFileSync(join(dir, 'de', 'page.json'), JSON.stringify({ title: 'Titel' }));
    const catalogue = loadCatalogue(dir);
    const german = createTranslator(catalogue, 'de');
    expect(german.t('page.title')).toBe('Titel');
    expect(german.t('page.nested.hello', { who: 'Welt' })).toBe('Hello Welt');
    expect(german.t('page.nope')).toBe('page.nope');
    expect(german.message('Plain text from a library')).toBe('Plain text from a library');
    expect(german.message('page.title')).toBe('Titel');
    expect(german.find('page.title')).toBe('Titel');
    expect(german.find('page.nope')).toBeUndefined();
  });

  test('a catalogue value that is not text is refused at load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-i18n-'));
    mkdirSync(join(dir, 'en'));
    mkdirSync(join(dir, 'de'));
    writeFileSync(join(dir, 'en', 'page.json'), JSON.stringify({ count: 3 }));
    writeFileSync(join(dir, 'de', 'page.json'), '{}');
    expect(() => loadCatalogue(dir)).toThrow(/page\.count must be a string/);
  });

  test('dates and numbers follow the language', () => {
    const catalogue = loadCatalogue();
    const date = new Date(Date.UTC(2026, 10, 22, 14, 5));
    expect(createTranslator(catalogue, 'de').formatDate(date)).toMatch(/22\.11\.2026/);
    expect(createTranslator(catalogue, 'en').formatDate(date)).toMatch(/Nov 22, 2026/);
    expect(createTranslator(catalogue, 'de').formatNumber(1234.5)).toBe('1.234,5');
    expect(createTranslator(catalogue, 'en').formatNumber(1234.5)).toBe('1,234.5');
  });
});
