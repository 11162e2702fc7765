import type { ViewRenderer } from '../http/views.js';
import type { Translator } from '../i18n/translator.js';
import { explainProtocolError } from '../http/error-page.js';
import { renderUpstreamSignOut } from '../http/upstream-sign-out-page.js';
import { logoutPage } from './logout-hint.js';
import type { ProviderDeps } from './options.js';
import type { UpstreamSignOutPage } from './upstream-sign-in.js';

export type ProviderPages = Pick<ProviderDeps, 'renderError' | 'logoutSource' | 'postLogoutSuccessSource'> & {
  /** After end_session's confirmation: the page that sends the browser on to the upstream's sign-out. */
  upstreamSignOut: UpstreamSignOutPage;
};

/**
 * The pages oidc-provider renders itself: a refused sign-in, the logout question and "signed
 * out", in Gatehouse's views and in the request's language (src/http/localize.ts).
 */
export function providerPages(views: ViewRenderer, english: Translator): ProviderPages {
  const i18nOf = (ctx: { state: unknown }): Translator => (ctx.state as { i18n?: Translator }).i18n ?? english;
  return {
    upstreamSignOut: (ctx, target) => renderUpstreamSignOut(views, ctx, i18nOf(ctx), target),
    async renderError(ctx, out) {
      const i18n = i18nOf(ctx);
      ctx.type = 'html';
      ctx.body = await views.render('error', {
        title: i18n.t('errors.title.signInRefused'),
        i18n,
        code: out.error,
        ...explainProtocolError(i18n, out.error, out.error_description),
      });
    },
    async logoutSource(ctx, form) {
      const i18n = i18nOf(ctx);
      ctx.type = 'html';
      // The RP's own logout of the current session: no second question. The page posts the
      // provider's confirmation form ("yes") on load, as the provider's own page does when
      // there is no session, so back-channel logout and our session-ending hooks run as for
      // a confirmed logout (docs/decisions.md, "RP-initiated logout with a matching id_token_hint").
      const page = logoutPage(ctx);
      ctx.body = await views.render(page.view, {
        title: i18n.t('logout.title'),
        i18n,
        form,
        clientName: ctx.oidc.client?.clientName,
        ...page,
      });
    },
    async postLogoutSuccessSource(ctx) {
      const i18n = i18nOf(ctx);
      ctx.type = 'html';
      ctx.body = await views.render('logged-out', {
        title: i18n.t('logout.doneTitle'),
        i18n,
        clientName: ctx.oidc.client?.clientName,
      });
    },
  };
}
