import Router from '@koa/router';
import type { Context } from 'koa';
import { bodyParser } from '../../http/body-parser.js';
import { underBase } from '../../http/base-path.js';
import { requestOrigin } from '../../http/request-origin.js';
import { requestTranslator } from '../../http/localize.js';
import { noStore } from '../../http/security-headers.js';
import type { ViewRenderer } from '../../http/views.js';
import type { ProviderHost } from '../../oidc/provider.js';
import type { Services } from '../../services.js';
import type { KeyValueStore } from '../../storage/key-value-store.js';
import type { Locale } from '../../i18n/locale.js';
import type { Translator } from '../../i18n/translator.js';
import { FederationError, type FederationFailure } from '../../federation/errors.js';
import { SIGNED_OUT_PATH } from '../../oidc/upstream-sign-in.js';
import { federationHandoffs, returnPath, takeFederationBinding, type FederationReturn } from '../kit/federation.js';

export interface FederationCallbackDeps extends Pick<Services, 'federation' | 'upstreamSignOut'> {
  host: ProviderHost;
  views: ViewRenderer;
  kv: KeyValueStore;
  translatorFor: (locale: Locale) => Translator;
}

/**
 * The status of each failure's page: the person's browser brought something we refuse (4xx),
 * the upstream refused (403; the person declining there, access_denied, too), the upstream's
 * answer is unusable (502), or it is down or slow (502/504, RFC 9110 §15.6.3,
 * §15.6.5). Never a 500: every reason is an expected end of an attempt.
 */
const STATUS: Record<FederationFailure, number> = {
  state_mismatch: 400,
  nonce_mismatch: 400,
  issuer_mismatch: 400,
  upstream_error: 502,
  upstream_unavailable: 504,
  domain_not_allowed: 403,
  connection_unavailable: 404,
  no_account: 403,
  email_not_verified: 403,
  identity_in_use: 409,
  account_disabled: 403,
};

/** An upstream's own error code worth showing (RFC 6749 §4.1.2.1's are short ASCII tokens). */
const SHOWN_UPSTREAM_ERROR = /^[\x20-\x7E]{1,64}$/;

/**
 * The callback of every connection, `<issuer>/federation/<id>/callback` (federationRedirectUri):
 * GET for a redirect, POST for a form_post upstream (Apple). It completes the round trip and
 * hands the outcome to the interaction it came from (its page has the interaction's cookie,
 * which is scoped to /interaction/<uid> and never reaches this path); /account links go back
 * to /account. Any failure ends here, on a page in the person's language with a way back.
 *
 * No CSRF token or Origin check: the upstream's cross-site redirect or POST is the point of
 * this route. What binds it is the state (single use) and the browser-binding cookie.
 */
export function createFederationRouter(deps: FederationCallbackDeps): Router {
  const router = new Router({ prefix: '/federation/:connection' });
  const handoffs = federationHandoffs(deps.kv);
  const parse = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });

  async function callback(ctx: Context, params: Record<string, unknown>) {
    const connectionId = String(ctx.params.connection);
    const cookie = takeFederationBinding(ctx, connectionId);
    const returnTo: FederationReturn | undefined = cookie?.returnTo;
    const interaction = returnTo?.kind === 'interaction' ? await aliveInteraction(deps, returnTo.uid) : undefined;
    if (interaction) ctx.state.i18n = requestTranslator(deps.translatorFor, ctx, interaction.params.ui_locales);
    try {
      const outcome = await deps.federation.complete({
        connectionId,
        params: Object.fromEntries(
          Object.entries(params).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value]] : [])),
        ),
        browserBinding: cookie?.binding,
        interactionUid: returnTo?.kind === 'interaction' ? returnTo.uid : undefined,
        origin: requestOrigin(ctx),
      });
      if (outcome.kind === 'linked') {
        ctx.redirect(`${underBase(ctx, '/account')}?done=identity-linked#linked-identities`);
      } else {
        await handoffs.put(outcome);
        ctx.redirect(underBase(ctx, `/interaction/${outcome.interactionUid}/federation/resume`));
      }
      // A form_post's POST becomes a GET there (RFC 9110 §15.4.4).
      ctx.status = 303;
    } catch (error) {
      if (!(error instanceof FederationError)) throw error;
      await renderFailure(ctx, error, returnTo && (returnTo.kind === 'account' || interaction) ? returnTo : undefined);
    }
  }

  async function renderFailure(ctx: Context, error: FederationError, back: FederationReturn | undefined) {
    const i18n = ctx.state.i18n as Translator;
    // The person said no at the upstream: a refusal, not an upstream fault.
    ctx.status = error.upstreamError === 'access_denied' ? 403 : STATUS[error.reason];
    ctx.type = 'html';
    ctx.body = await deps.views.render('federation/error', {
      title: i18n.t('federation.errors.title'),
      i18n,
      code: error.reason,
      message: i18n.t(`federation.errors.${error.reason}`),
      upstreamError:
        error.upstreamError && SHOWN_UPSTREAM_ERROR.test(error.upstreamError) ? error.upstreamError : undefined,
      back: back && {
        href: returnPath(ctx, back),
        label: i18n.t(back.kind === 'account' ? 'federation.backToAccount' : 'federation.backToSignIn'),
      },
    });
  }

  router.use(noStore);
  router.get('/callback', (ctx) => callback(ctx, ctx.query));
  // The upstream's return from its sign-out (federationSignedOutUri): on to where the sign-out
  // here was going (the RP's post_logout_redirect_uri, the "signed out" page). Without a known
  // state, the provider's "signed out" page: the person is signed out here either way.
  router.get('/signed-out', async (ctx) => {
    const continueTo = await deps.upstreamSignOut.returned(String(ctx.params.connection), ctx.query.state);
    ctx.redirect(continueTo ?? underBase(ctx, SIGNED_OUT_PATH));
  });
  router.post('/callback', parse, (ctx) =>
    callback(ctx, (ctx.request as { body?: Record<string, unknown> }).body ?? {}),
  );
  return router;
}

/** The interaction when it is still there to go back to. */
async function aliveInteraction(deps: FederationCallbackDeps, uid: string) {
  const interaction = await deps.host.current.Interaction.find(uid).catch(() => undefined);
  return interaction && interaction.exp * 1000 > Date.now() ? interaction : undefined;
}
