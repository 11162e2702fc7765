import type { Context, Next } from 'koa';
import { DEFAULT_LOCALE, negotiateLocale, type Locale } from '../i18n/locale.js';
import type { Translator } from '../i18n/translator.js';

interface WithTranslator {
  state: { i18n: Translator };
}

/** The request's language (set by localize() below), for pages and for the mails a visitor asks for. */
export function translatorOf(ctx: Context): Translator {
  return (ctx.state as WithTranslator['state']).i18n;
}

/**
 * The operators' tools (the admin console and API) stay English: their words are the
 * vocabulary of the docs and the audit log, which operators search and quote (docs/i18n.md).
 */
const ENGLISH_ONLY = /^\/admin(\/|$)/;

/** The request's translator: `uiLocales` (an RP's ui_locales) first, then Accept-Language. */
export function requestTranslator(
  translatorFor: (locale: Locale) => Translator,
  ctx: Context,
  uiLocales?: unknown,
): Translator {
  if (ENGLISH_ONLY.test(ctx.path)) return translatorFor(DEFAULT_LOCALE);
  return translatorFor(
    negotiateLocale({
      uiLocales: typeof uiLocales === 'string' ? uiLocales : undefined,
      acceptLanguage: ctx.get('accept-language'),
    }),
  );
}

/**
 * Picks the page language for every request: `ui_locales` in the query (an RP's authorization
 * request or a link that carries it), then Accept-Language. Sign-in steps refine it with the
 * interaction's ui_locales (web/interaction/router.ts).
 */
export function localize(translatorFor: (locale: Locale) => Translator) {
  return async function localizeMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.state.i18n = requestTranslator(translatorFor, ctx, ctx.query.ui_locales);
    ctx.vary('Accept-Language');
    await next();
  };
}
