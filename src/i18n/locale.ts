/** The languages Gatehouse ships complete catalogues for; the first is the fallback. */
export const SUPPORTED_LOCALES = ['en', 'de'] as const;
export type Locale = (typeof SUPPORTED_LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

function supported(tag: string): Locale | undefined {
  // A regional tag (de-AT) matches its language (de): catalogues are per language.
  const language = tag.trim().toLowerCase().split('-')[0];
  return SUPPORTED_LOCALES.find((locale) => locale === language);
}

/** Accept-Language (RFC 9110 §12.5.4) ranges, best first; q=0 excluded. */
function acceptedRanges(header: string): string[] {
  return header
    .split(',')
    .map((part, index) => {
      const [range = '', ...params] = part.split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return { range: range.trim(), weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((entry) => entry.range && entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index)
    .map((entry) => entry.range);
}

/**
 * The page language: the RP's ui_locales (OIDC Core §3.1.2.1, space-separated, preferred
 * first) wins over the browser's Accept-Language; English when neither names one we have.
 */
export function negotiateLocale(input: { uiLocales?: string; acceptLanguage?: string }): Locale {
  for (const tag of (input.uiLocales ?? '').split(' ')) {
    const locale = tag && supported(tag);
    if (locale) return locale;
  }
  for (const range of acceptedRanges(input.acceptLanguage ?? '')) {
    const locale = supported(range);
    if (locale) return locale;
  }
  return DEFAULT_LOCALE;
}
