import Router from '@koa/router';
import type { Next } from 'koa';
import { z } from 'zod';
import { AppError, assertThat } from '../../http/errors.js';
import { noStore } from '../../http/security-headers.js';
import { underBase } from '../../http/base-path.js';
import { requestTranslator } from '../../http/localize.js';
import { requireSameOrigin } from '../../security/csrf.js';
import { passwordAttempts } from '../../security/password-attempts.js';
import { lockedOutMessage } from '../../i18n/duration.js';
import { passwordLength } from '../../accounts/password-policy.js';
import { createForms, type WithForm } from '../kit/form.js';
import { checkbox, text } from '../kit/form-fields.js';
import { interactionOrigin, signedInAccount, type InteractionDeps, type WithInteractionContext } from './context.js';
import { isFirstPartyClient, renderConsent, renderLogin, renderSelectAccount } from './steps.js';
import { addMfaRoutes, renderMfa, secondStepFinisher } from './mfa.js';
import { addCodeFactorRoutes } from './code-factors.js';
import { addEmailSignInRoutes } from './email-sign-in.js';
import { addWebAuthnRoutes } from './webauthn.js';
import { addSignUpRoutes, refuseUnverifiedSignIn } from './signup.js';
import { addFederationRoutes, continueUpstream, followUpstreamHint } from './federation.js';
import { consentOf } from '../../oidc/consent.js';
import { saveInteractionResult } from './interaction-result.js';

/** The login form; the route checks emptiness and lengths itself (it shows the page again). */
const loginForm = z.object({ email: text({ trim: true }), password: text(), remember: checkbox() });
/** Continue as the signed-in account, or `switch` to another one. */
const selectAccountForm = z.object({ action: text() });
/** `allow`; anything else denies. */
const consentForm = z.object({ decision: text() });

/**
 * Sign-in steps: GET shows the step the provider asks for (prompt.name); each POST checks
 * the CSRF token and that its step is the pending one, then finishes the interaction,
 * which answers 303 to the provider's resume URL (RFC 9700 §4.12).
 */
export function createInteractionRouter(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  // Each form's CSRF token is bound to its interaction (steps.ts renderStep).
  const form = createForms<WithInteractionContext>({
    limit: '16kb',
    csrf: (ctx, token) => deps.csrf.verify(ctx.state.interaction.uid, token),
  });

  async function loadInteraction(ctx: WithInteractionContext, next: Next) {
    ctx.state.interaction = await deps.host.current.interactionDetails(ctx.req, ctx.res);
    // The RP's ui_locales holds for every step of its sign-in, over the browser's languages.
    ctx.state.i18n = requestTranslator(deps.translatorFor, ctx, ctx.state.interaction.params.ui_locales);
    assertThat(
      ctx.state.interaction.uid === ctx.params.uid,
      () => new AppError('session_not_found', 400, 'login.interactionMismatch'),
    );
    await next();
  }

  /** A step's form is posted while that step is the pending one (its form's check, before the CSRF token). */
  function requirePrompt(...names: string[]) {
    return async (ctx: WithInteractionContext, next: Next) => {
      assertThat(
        names.includes(ctx.state.interaction.prompt.name),
        () => new AppError('invalid_request', 400, 'login.stepNotPending'),
      );
      await next();
    };
  }

  /** The step's result saved, and a 303 to the provider's resume URL (as its interactionFinished answers). */
  const finish = async (ctx: WithInteractionContext, result: Record<string, unknown>, merge = false) => {
    const returnTo = await saveInteractionResult(ctx.state.interaction, result, merge);
    ctx.res.statusCode = 303;
    ctx.res.setHeader('Location', returnTo);
    ctx.res.setHeader('Content-Length', '0');
    ctx.res.end();
    ctx.respond = false;
  };

  router.use(noStore, requireSameOrigin(deps.origin), loadInteraction);

  router.get('/', async (ctx: WithInteractionContext) => {
    const { prompt, params } = ctx.state.interaction;
    switch (prompt.name) {
      case 'select_account':
        return renderSelectAccount(deps, ctx);
      case 'login':
        if (await followUpstreamHint(deps, ctx)) return;
        return renderLogin(deps, ctx);
      case 'mfa':
        return renderMfa(deps, ctx);
      case 'consent': {
        const client = await deps.host.current.Client.find(String(params.client_id));
        if (isFirstPartyClient(client?.metadata())) return approveConsent(ctx);
        return renderConsent(deps, ctx);
      }
      default:
        throw new AppError('invalid_request', 400, 'login.unsupportedStep');
    }
  });

  router.post(
    '/login',
    ...form(loginForm, requirePrompt('login', 'select_account')),
    async (ctx: WithInteractionContext & WithForm<typeof loginForm>) => {
      const { email, password } = ctx.state.form;
      // Home-realm discovery: an address at a domain a connection claims goes to its upstream,
      // password or not. It depends on the domain alone, never on whether an account exists.
      if (email && email.length <= 320) {
        const clientId = ctx.state.interaction.params.client_id;
        const realm = await deps.federation.connectionForEmail(email, typeof clientId === 'string' ? clientId : null);
        if (realm) return continueUpstream(deps, ctx, realm, email);
      }
      if (
        !email ||
        !password ||
        email.length > 320 ||
        password.length > 4 * deps.config.passwordPolicy.maxLength ||
        passwordLength(password) > deps.config.passwordPolicy.maxLength
      ) {
        ctx.status = 400;
        return renderLogin(deps, ctx, { email, error: 'login.missingFields' });
      }
      await passwordAttempts.admit(deps.limits, ctx, email);
      const result = await deps.accounts.signInWithPassword(email, password, interactionOrigin(ctx));
      if (!result.ok) {
        if (result.reason === 'invalid-credentials') await passwordAttempts.failed(deps.limits, ctx);
        if (result.reason === 'throttled') {
          ctx.status = 429;
          ctx.set('Retry-After', String(result.retryAfterSeconds));
          return renderLogin(deps, ctx, { email, error: lockedOutMessage(ctx.state.i18n, result.retryAfterSeconds) });
        }
        // 403: the credentials were right, the account may not sign in (RFC 9110 §15.5.4).
        ctx.status = result.reason === 'disabled' ? 403 : 401;
        return renderLogin(deps, ctx, {
          email,
          error: result.reason === 'disabled' ? 'login.accountDisabled' : 'login.wrongCredentials',
        });
      }
      if (await refuseUnverifiedSignIn(deps, ctx, result.user)) return;
      return finish(ctx, {
        select_account: {},
        // "Keep me signed in" (views/interaction/_remember.ejs): unchecked, the provider makes a
        // transient session whose cookie has no Expires (lib/shared/session.js).
        login: {
          accountId: result.user.id,
          acr: deps.config.acr.password,
          amr: ['pwd'],
          remember: ctx.state.form.remember,
        },
      });
    },
  );

  router.post(
    '/select-account',
    ...form(selectAccountForm, requirePrompt('select_account')),
    async (ctx: WithInteractionContext & WithForm<typeof selectAccountForm>) => {
      if (ctx.state.form.action === 'switch') return renderLogin(deps, ctx);
      return finish(ctx, { select_account: {} }, true);
    },
  );

  /** `remember`: the user allowed a third-party client, whose consent outlives this session (src/oidc/consent.ts). */
  async function approveConsent(ctx: WithInteractionContext, remember = false) {
    const { prompt, params, grantId } = ctx.state.interaction;
    const { Grant } = deps.host.current;
    const accountId = signedInAccount(ctx);
    const grant =
      (grantId ? await Grant.find(grantId) : undefined) ?? new Grant({ accountId, clientId: String(params.client_id) });
    const details = prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const saved = await grant.save();
    if (remember) await deps.consents.remember(consentOf(grant));
    return finish(ctx, { consent: { grantId: saved } }, true);
  }

  router.post(
    '/consent',
    ...form(consentForm, requirePrompt('consent')),
    async (ctx: WithInteractionContext & WithForm<typeof consentForm>) => {
      if (ctx.state.form.decision === 'allow') return approveConsent(ctx, true);
      return finish(ctx, { error: 'access_denied', error_description: 'End-User denied the authorization request' });
    },
  );

  /**
   * "Not you?" on the consent page: this sign-in goes back to its login step, where someone
   * else can sign in (password, passkey, email, upstream: every way the login page offers).
   * The interaction's pending prompt is what our routes read (requirePrompt, GET's dispatch);
   * oidc-provider runs its policy again when the sign-in resumes, so nothing is skipped. When
   * another account signs in, the provider ends the old session first (its "different
   * account" confirmation, lib/actions/authorization/resume.js) and the new person is then
   * asked for consent themselves. The old consent form is refused from here on.
   */
  router.post('/switch-account', ...form(undefined, requirePrompt('consent')), async (ctx: WithInteractionContext) => {
    const { interaction } = ctx.state;
    interaction.prompt = { name: 'login', reasons: ['switch_account'], details: {} };
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
    ctx.status = 303;
    ctx.redirect(underBase(ctx, `/interaction/${interaction.uid}`));
  });

  addMfaRoutes(router, deps, { form, requirePrompt }, finish);
  addCodeFactorRoutes(router, deps, { form, requirePrompt }, secondStepFinisher(deps, finish));
  addEmailSignInRoutes(router, deps, { form, requirePrompt }, finish);
  addWebAuthnRoutes(router, deps);
  addSignUpRoutes(router, deps, { form, requirePrompt });
  addFederationRoutes(router, deps, { form, requirePrompt }, finish);

  router.post(
    '/abort',
    ...form(undefined, requirePrompt('login', 'select_account', 'mfa', 'consent')),
    (ctx: WithInteractionContext) =>
      finish(ctx, { error: 'access_denied', error_description: 'End-User aborted the sign-in' }),
  );

  return router;
}
