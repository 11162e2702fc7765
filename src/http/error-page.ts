import type { Translator } from '../i18n/translator.js';

/** The error page's title for an HTTP status, in the request's language. */
export function errorTitle(i18n: Translator, status: number): string {
  return i18n.find(`errors.title.${status}`) ?? i18n.t('errors.title.other');
}

/**
 * oidc-provider's error descriptions are written for developers ("post_logout_redirect_uri
 * not registered"): the page explains the OAuth error code in the user's language and keeps
 * the library's description as a detail for whoever reports the problem.
 */
export function explainProtocolError(
  i18n: Translator,
  code: string,
  description: string | undefined,
): { message: string; detail?: string } {
  return { message: i18n.find(`errors.oauth.${code}`) ?? i18n.t('errors.oauth.other'), detail: description };
}
