import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '../../config/schema.js';
import type { PasswordReset } from '../../accounts/password-reset.js';
import { checkEmail } from '../../accounts/user-fields.js';
import { localizedFormError } from '../kit/form-errors.js';
import { noStore } from '../../http/security-headers.js';
import { requestOrigin } from '../../http/request-origin.js';
import type { ViewRenderer } from '../../http/views.js';
import type { Translator } from '../../i18n/translator.js';
import { requireSameOrigin } from '../../security/csrf.js';
import type { SelfServiceDeps } from '../../services.js';
import { createForms, type WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';

export interface PasswordResetRouteDeps {
  reset: PasswordReset;
  /** The account mails and the public-form CSRF the other self-service pages use too. */
  selfService: Pick<SelfServiceDeps, 'mail' | 'publicForm' | 'limits'>;
  views: ViewRenderer;
  config: Pick<Config, 'issuer' | 'passwordPolicy' | 'passwordReset'>;
}

interface WithPublicFormContext extends Context {
  state: { i18n: Translator; formCsrf: string };
}

/** "Send me a link": the address typed (checked by the route, which shows it again) and the sign-in it came from. */
const forgotForm = z.object({ email: text(), interaction: text() });
/** The mailed link's form: its token and the new password, twice. */
const resetForm = z.object({ token: text(), password: text(), password_confirm: text() });

/** The sign-in the user came from (an interaction uid): carried through the forms, never trusted as more. */
function interactionOf(value: unknown): string | null {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : null;
}

/**
 * /password/forgot (ask for a link) and /password/reset (the mailed link): public pages with no
 * session, so their forms use the cookie-bound CSRF token (security/csrf.ts createPublicFormCsrf).
 * Asking is limited per IP and per typed address *and* IP (docs/abuse-protection.md): requests
 * from elsewhere cannot use up the owner's allowance (issue 14, finding 5). A silent cap per typed
 * address from all IPs bounds the mail one mailbox gets: past it the answer is the same and no
 * link is issued. Both count what was typed, whether or not it has an account, so neither a 429
 * nor the cap reveals anything.
 */
export function createPasswordResetRouter(deps: PasswordResetRouteDeps): Router {
  const router = new Router({ prefix: '/password' });
  const { issuer, passwordPolicy } = deps.config;
  const { publicForm, mail } = deps.selfService;
  const form = createForms({ limit: '16kb', csrf: publicForm.accepts });
  const minutes = Math.round(deps.config.passwordReset.linkTtlSeconds / 60);

  const render = async (
    ctx: WithPublicFormContext,
    view: string,
    titleKey: string,
    locals: Record<string, unknown> = {},
    status = 200,
  ) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await deps.views.render(`password/${view}`, {
      title: ctx.state.i18n.t(titleKey),
      i18n: ctx.state.i18n,
      csrf: ctx.state.formCsrf,
      minLength: passwordPolicy.minLength,
      minutes,
      ...locals,
    });
  };

  const showForgot = (
    ctx: WithPublicFormContext,
    locals: { email: string; interaction: string | null; error?: string },
    status = 200,
  ) => render(ctx, 'forgot', 'password-reset.forgot.title', locals, status);
  const showInvalidLink = (ctx: WithPublicFormContext) =>
    render(ctx, 'link-invalid', 'password-reset.invalid.title', {}, 400);

  router.use(noStore, requireSameOrigin(new URL(issuer).origin));

  router.get('/forgot', publicForm.prepare, (ctx: WithPublicFormContext) =>
    showForgot(ctx, { email: '', interaction: interactionOf(ctx.query.interaction) }),
  );

  router.post(
    '/forgot',
    ...form(forgotForm),
    publicForm.prepare,
    async (ctx: WithPublicFormContext & WithForm<typeof forgotForm>) => {
      await deps.selfService.limits.consume(ctx, 'passwordResetIp');
      const interaction = interactionOf(ctx.state.form.interaction);
      const typed = ctx.state.form.email;
      let email: string;
      try {
        email = checkEmail(typed);
      } catch (error) {
        const refused = localizedFormError(error, ctx.state.i18n, {}, 'password-reset.forgot.invalid_email');
        if (!refused) throw error;
        return showForgot(ctx, { email: typed.slice(0, 320), interaction, error: refused.message }, 400);
      }
      const { limits } = deps.selfService;
      await limits.consume(ctx, 'passwordResetEmailIp', `${email}\n${ctx.ip}`);
      const withinCap = await limits.allows(ctx, 'passwordResetEmailCap', email);
      const outgoing = await deps.reset.request({
        email,
        interactionUid: interaction,
        origin: requestOrigin(ctx),
        capped: !withinCap,
      });
      // The same page whether or not the address has an account, and nothing of what was typed;
      // the mail goes out after the page is ready and is not awaited (no SMTP timing either).
      await render(ctx, 'forgot-sent', 'password-reset.sent.title', { interaction });
      if (outgoing?.kind === 'link') mail.passwordReset(outgoing.user.email, outgoing.token, minutes, ctx.state.i18n);
      if (outgoing?.kind === 'disabled') mail.resetOfDisabledAccount(outgoing.user.email, ctx.state.i18n);
    },
  );

  router.get('/reset', publicForm.prepare, async (ctx: WithPublicFormContext) => {
    const opened = await deps.reset.open(ctx.query.token);
    if (!opened.ok) return showInvalidLink(ctx);
    return render(ctx, 'reset', 'password-reset.reset.title', {
      token: String(ctx.query.token),
      email: opened.user.email,
    });
  });

  router.post(
    '/reset',
    ...form(resetForm),
    publicForm.prepare,
    async (ctx: WithPublicFormContext & WithForm<typeof resetForm>) => {
      const { token, password } = ctx.state.form;
      const again = (error: string, email: string) =>
        render(ctx, 'reset', 'password-reset.reset.title', { token, email, error }, 400);
      const opened = await deps.reset.open(token);
      if (!opened.ok) return showInvalidLink(ctx);
      if (password !== ctx.state.form.password_confirm)
        return again(ctx.state.i18n.t('password-reset.reset.mismatch'), opened.user.email);
      const outcome = await deps.reset.complete(token, password, requestOrigin(ctx));
      if (!outcome.ok && outcome.reason === 'weak-password')
        return again(ctx.state.i18n.t(outcome.problem.key, outcome.problem.params), opened.user.email);
      if (!outcome.ok) return showInvalidLink(ctx);
      await render(ctx, 'reset-done', 'password-reset.done.title', { interaction: outcome.interactionUid });
      mail.passwordChanged(outcome.user.email, ctx.state.i18n);
    },
  );

  return router;
}
