import type Router from '@koa/router';
import type { Middleware, Next } from 'koa';
import { z } from 'zod';
import type { UserRow } from '../../storage/entities/user.entity.js';
import { AppError, assertThat } from '../../http/errors.js';
import { translatorOf } from '../../http/localize.js';
import { RateLimitedError } from '../../security/rate-limits.js';
import { localizedFormError } from '../kit/form-errors.js';
import type { FormGuard, WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';
import { interactionOrigin, type InteractionDeps, type WithInteractionContext } from './context.js';

/** Who was refused for an unverified address in this interaction: only they may ask for a new link. */
const unverifiedKey = (uid: string) => `signup-unverified:${uid}`;
const UNVERIFIED_TTL_SECONDS = 900;

/**
 * The message for each refused field (a password refusal names its rule itself, in the
 * password-policy catalogue); the page never says whether the address has an account.
 */
const FIELD_ERRORS: Record<string, string> = {
  email: 'signup.errors.email',
  'email:email_domain': 'signup.errors.emailDomain',
  name: 'signup.errors.name',
};

/** The sign-up form; the sign-up service checks each field (and the page shows its refusal). */
const signUpForm = z.object({ email: text({ trim: true }), name: text(), password: text() });

async function renderPage(
  deps: InteractionDeps,
  ctx: WithInteractionContext,
  view: string,
  titleKey: string,
  locals: Record<string, unknown> = {},
) {
  const { uid } = ctx.state.interaction;
  const i18n = translatorOf(ctx);
  ctx.type = 'html';
  ctx.body = await deps.views.render(`interaction/${view}`, {
    title: i18n.t(titleKey),
    uid,
    csrf: deps.csrf.token(uid),
    i18n,
    ...locals,
  });
}

const renderForm = (
  deps: InteractionDeps,
  ctx: WithInteractionContext,
  values: { email?: string; name?: string; error?: string } = {},
) =>
  renderPage(deps, ctx, 'signup', 'signup.title', {
    email: values.email ?? '',
    name: values.name ?? '',
    error: values.error,
    minPasswordLength: deps.config.passwordPolicy.minLength,
    maxPasswordLength: deps.config.passwordPolicy.maxLength,
  });

/**
 * Self-registration inside a sign-in (/interaction/:uid/signup), so the new user continues to
 * the application afterwards. Whether or not the address already has an account, the answer
 * is the same page with the same status; only the mail differs (docs/sign-up.md).
 */
export function addSignUpRoutes(
  router: Router,
  deps: InteractionDeps,
  tools: { form: FormGuard; requirePrompt: (...names: string[]) => Middleware },
): void {
  const { selfService } = deps;
  const { form, requirePrompt } = tools;

  async function requireSignUpEnabled(ctx: WithInteractionContext, next: Next) {
    assertThat(
      selfService.settings.enabled,
      () => new AppError('not_found', 404, 'The page you asked for does not exist.'),
    );
    await next();
  }

  router.get('/signup', requireSignUpEnabled, async (ctx: WithInteractionContext) => {
    assertThat(
      ['login', 'select_account'].includes(ctx.state.interaction.prompt.name),
      () => new AppError('invalid_request', 400, 'This step is not part of the current sign-in.'),
    );
    return renderForm(deps, ctx);
  });

  router.post(
    '/signup',
    requireSignUpEnabled,
    ...form(signUpForm, requirePrompt('login', 'select_account')),
    async (ctx: WithInteractionContext & WithForm<typeof signUpForm>) => {
      await selfService.limits.consume(ctx, 'signUpIp');
      const input = ctx.state.form;
      const i18n = translatorOf(ctx);
      let outcome;
      try {
        outcome = await selfService.signUp.register(input, interactionOrigin(ctx), {
          interaction: ctx.state.interaction.uid,
        });
      } catch (error) {
        const refused = localizedFormError(error, i18n, FIELD_ERRORS, 'signup.errors.email');
        if (!refused) throw error;
        ctx.status = 400;
        return renderForm(deps, ctx, { email: input.email, name: input.name, error: refused.message });
      }
      // The page is decided before any mail goes out, and the mail is not awaited: neither the
      // answer nor its timing depends on which of the two mails is sent.
      await renderPage(deps, ctx, 'signup-sent', 'signup.sent.title', { email: input.email });
      if (outcome.kind === 'created')
        selfService.mail.verifyAddress(outcome.user.email, outcome.verificationToken, i18n);
      // Past the per-address limit the notice is skipped; the answer above is already the same.
      else if (await withinLimit(() => selfService.limits.consume(ctx, 'accountMail', outcome.owner.id)))
        selfService.mail.registrationOnTakenAddress(outcome.owner.email, i18n);
    },
  );

  router.post(
    '/signup/resend',
    ...form(undefined, requirePrompt('login', 'select_account')),
    async (ctx: WithInteractionContext) => {
      const { uid } = ctx.state.interaction;
      // Only after the right password for an unverified account (refuseUnverifiedSignIn), once.
      const userId = await deps.kv.take(unverifiedKey(uid));
      assertThat(userId, () => new AppError('invalid_request', 400, 'Sign in again to ask for a new link.'));
      await selfService.limits.consume(ctx, 'accountMail', userId);
      const issued = await selfService.emailAddress.reissueVerification(
        userId,
        { interaction: uid },
        interactionOrigin(ctx),
      );
      await renderPage(deps, ctx, 'signup-sent', 'signup.sent.title', {
        email: issued?.user.email ?? '',
        resent: true,
      });
      if (issued) selfService.mail.verifyAddress(issued.user.email, issued.token, translatorOf(ctx));
    },
  );
}

/**
 * After the right password: a self-registered account whose address is not verified yet gets a
 * page that explains it and offers a new link, instead of finishing the sign-in. True when it
 * did so (the caller stops). Reached only with the right password, so it reveals nothing.
 */
/** False when `consume` refused the request for a rate limit; other errors pass through. */
async function withinLimit(consume: () => Promise<void>): Promise<boolean> {
  try {
    await consume();
    return true;
  } catch (error) {
    if (error instanceof RateLimitedError) return false;
    throw error;
  }
}

export async function refuseUnverifiedSignIn(
  deps: InteractionDeps,
  ctx: WithInteractionContext,
  user: UserRow,
): Promise<boolean> {
  if (!deps.selfService.signUp.mustVerifyBeforeSignIn(user)) return false;
  const { uid } = ctx.state.interaction;
  await deps.kv.set(unverifiedKey(uid), user.id, UNVERIFIED_TTL_SECONDS);
  await deps.audit.record('signin.email_unverified', { subjectId: user.id }, interactionOrigin(ctx));
  ctx.status = 403;
  await renderPage(deps, ctx, 'verify-email-required', 'signup.unverified.title', { email: user.email });
  return true;
}
