import type { Translator } from './translator.js';

/**
 * A wait as people say it, in the request's language: "45 seconds", "3 Minuten". Rounded up
 * to whole minutes past one minute (a Retry-After of 61 s reads "2 minutes").
 */
export function formatWait(seconds: number, locale: string): string {
  const [value, unit] =
    seconds <= 60 ? [Math.max(1, Math.ceil(seconds)), 'second'] : [Math.ceil(seconds / 60), 'minute'];
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' }).format(value);
}

/** The sign-in pages' text for a lockout wait (catalogue namespace `limits`). */
export function lockedOutMessage(i18n: Translator, seconds: number): string {
  return i18n.t('limits.lockedOut', { wait: formatWait(seconds, i18n.locale) });
}
