import type { Catalogue, MessageParams } from './catalogue.js';
import type { Locale } from './locale.js';

/** One request's language: its messages, dates and numbers. Views get it as `t`, `formatDate`… */
export interface Translator {
  readonly locale: Locale;
  t(key: string, params?: MessageParams): string;
  /**
   * Our own routes' error messages may be catalogue keys: those are translated, any other
   * text (an oidc-provider description) is shown as it is.
   */
  message(keyOrText: string, params?: MessageParams): string;
  /** The text for a key built at run time (`events.${action}`); undefined when there is none. */
  find(key: string, params?: MessageParams): string | undefined;
  formatDate(date: Date | string | number): string;
  formatNumber(value: number): string;
}

export function createTranslator(catalogue: Catalogue, locale: Locale): Translator {
  const dates = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  const numbers = new Intl.NumberFormat(locale);
  return {
    locale,
    t: (key, params) => catalogue.translate(locale, key, params),
    message: (keyOrText, params) =>
      catalogue.has(keyOrText) ? catalogue.translate(locale, keyOrText, params) : keyOrText,
    find: (key, params) => (catalogue.has(key) ? catalogue.translate(locale, key, params) : undefined),
    formatDate: (date) => `${dates.format(new Date(date))} UTC`,
    formatNumber: (value) => numbers.format(value),
  };
}

/** One translator per language, made once: Intl formatters are costly to build per request. */
export function createTranslators(catalogue: Catalogue): (locale: Locale) => Translator {
  const made = new Map<Locale, Translator>();
  return (locale) => {
    let translator = made.get(locale);
    if (!translator) {
      translator = createTranslator(catalogue, locale);
      made.set(locale, translator);
    }
    return translator;
  };
}
