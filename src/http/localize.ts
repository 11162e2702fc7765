import type { Context, Next } from 'koa';
import { negotiateLocale, type Locale } from '../i18n/locale.js';
import type { Translator } from '../i18n/translator.js';

export interface WithTranslator {
  state: { i18n: Translator };
}

/**
 * Picks the page language for every request: `ui_locales` in the query (an RP's authorization
 * request or a link that carries it), then Accept-Language. Sign-in steps refine it with the
 * interaction's ui_locales (interactions/context.ts).
 */
export function localize(translatorFor: (locale: Locale) => Translator) {
  return async function localizeMiddleware(ctx: Context, next: Next): Promise<void> {
    const uiLocales = typeof ctx.query.ui_locales === 'string' ? ctx.query.ui_locales : undefined;
    ctx.state.i18n = translatorFor(negotiateLocale({ uiLocales, acceptLanguage: ctx.get('accept-language') }));
    ctx.vary('Accept-Language');
    await next();
  };
}
