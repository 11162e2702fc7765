import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { secondsUntilResend } from '../../codes/code-policy.js';
import { generateToken } from '../../codes/secrets.js';
import { underBase } from '../../http/base-path.js';
import { RateLimitedError } from '../../security/rate-limits.js';
import type { FormGuard, WithForm } from '../kit/form.js';
import { checkbox, text } from '../kit/form-fields.js';
import {
  clearEmailBinding,
  emailBinding,
  emailSignInStore,
  setEmailBinding,
  type EmailSignInRequestState,
} from '../kit/email-sign-in.js';
import { clientMetadataOf, interactionOrigin, type InteractionDeps, type WithInteractionContext } from './context.js';
import { emailSignInOffered, renderLogin } from './steps.js';
import { resendTooSoon } from '../kit/resend-wait.js';

type Finish = (ctx: WithInteractionContext, result: Record<string, unknown>, merge?: boolean) => Promise<void>;

/** "Email me a link" / "Email me a code": the login form's address, posted by one of its buttons. */
const requestForm = z.object({ email: text({ trim: true }), mode: text(), remember: checkbox() });
const codeForm = z.object({ code: text({ trim: true }) });

/** The remember choice of the request, kept until the code or link finishes the sign-in. */
const rememberKey = (uid: string) => `email-sign-in:remember:${uid}`;

/**
 * Email sign-in as the first factor (issue 18, docs/factors.md "Email sign-in"): the request
 * from the sign-in page, the "check your mail" page with its code field and resend button,
 * the code, and the return of a link opened in this browser (web/email/sign-in-link.ts).
 */
export function addEmailSignInRoutes(
  router: Router,
  deps: InteractionDeps,
  tools: { form: FormGuard; requirePrompt: (...names: string[]) => Middleware },
  finish: Finish,
): void {
  const { form, requirePrompt } = tools;
  const store = emailSignInStore(deps.kv);
  const secure = deps.origin.startsWith('https:');
  const firstStep = requirePrompt('login', 'select_account');

  /** Finishes the sign-in as `userId`: one factor, `otp` (RFC 8176), the password's level. */
  async function signedIn(ctx: WithInteractionContext, userId: string) {
    const { uid } = ctx.state.interaction;
    const remember = (await deps.kv.take(rememberKey(uid))) !== 'no';
    await store.dropRequest(uid);
    clearEmailBinding(ctx, uid);
    return finish(ctx, {
      select_account: {},
      login: { accountId: userId, amr: ['otp'], acr: deps.config.acr.password, remember },
    });
  }

  async function send(ctx: WithInteractionContext, email: string, mode: 'code' | 'link', binding: string) {
    const { uid } = ctx.state.interaction;
    const sent = await deps.emailSignIn.request({
      email,
      mode,
      browserBinding: binding,
      interactionUid: uid,
      locale: ctx.state.i18n.locale,
      clientMetadata: await clientMetadataOf(deps, ctx),
      origin: interactionOrigin(ctx),
    });
    const state: EmailSignInRequestState = { ...sent, email, mode, sentAt: deps.clock() };
    await store.putRequest(uid, state);
    return state;
  }

  router.post(
    '/email-sign-in',
    ...form(requestForm, firstStep),
    async (ctx: WithInteractionContext & WithForm<typeof requestForm>) => {
      const { email, remember } = ctx.state.form;
      const mode = ctx.state.form.mode === 'link' ? 'link' : 'code';
      if (!(await emailSignInOffered(deps, ctx))) {
        ctx.status = 403;
        return renderLogin(deps, ctx, { email, error: 'codes.errors.emailSignInOff' });
      }
      if (!email || email.length > 320) {
        ctx.status = 400;
        return renderLogin(deps, ctx, { email, error: 'codes.signIn.missingEmail' });
      }
      const binding = generateToken();
      // InvalidInputError (a malformed address) and RateLimitedError (429 + Retry-After) are
      // mapped by the error handler; the same answer whether or not the address has an account.
      await send(ctx, email, mode, binding);
      setEmailBinding(ctx, ctx.state.interaction.uid, binding, secure);
      await deps.kv.set(rememberKey(ctx.state.interaction.uid), remember ? 'yes' : 'no', 3600);
      ctx.status = 303;
      ctx.redirect(underBase(ctx, `/interaction/${ctx.state.interaction.uid}/email-sign-in`));
    },
  );

  router.get('/email-sign-in', firstStep, async (ctx: WithInteractionContext) => {
    const state = await store.request(ctx.state.interaction.uid);
    if (!state) {
      ctx.redirect(underBase(ctx, `/interaction/${ctx.state.interaction.uid}`));
      return;
    }
    return renderSent(deps, ctx, state);
  });

  router.post('/email-sign-in/resend', ...form(undefined, firstStep), async (ctx: WithInteractionContext) => {
    const { uid } = ctx.state.interaction;
    const state = await store.request(uid);
    const binding = emailBinding(ctx);
    if (!state || !binding) {
      ctx.redirect(underBase(ctx, `/interaction/${uid}`));
      return;
    }
    // The visible cooldown, on the clock the page counted it with: too early is the same page
    // with 429, Retry-After and the wait in words (nothing sent, no limit's budget spent).
    const wait = secondsUntilResend(state.sentAt, state.resendAfterSeconds, deps.clock());
    if (wait > 0) return renderSent(deps, ctx, state, resendTooSoon(ctx, ctx.state.i18n, wait));
    try {
      await send(ctx, state.email, state.mode, binding);
    } catch (error) {
      // Another limit (the address asked from elsewhere, the IP's budget): the same page and answer.
      if (!(error instanceof RateLimitedError)) throw error;
      return renderSent(deps, ctx, state, resendTooSoon(ctx, ctx.state.i18n, error.retryAfterSeconds));
    }
    ctx.status = 303;
    ctx.redirect(underBase(ctx, `/interaction/${uid}/email-sign-in?resent=1`));
  });

  router.post(
    '/email-sign-in/code',
    ...form(codeForm, firstStep),
    async (ctx: WithInteractionContext & WithForm<typeof codeForm>) => {
      const { uid } = ctx.state.interaction;
      const state = await store.request(uid);
      if (!state) {
        ctx.redirect(underBase(ctx, `/interaction/${uid}`));
        return;
      }
      const code = ctx.state.form.code.replace(/\s+/g, '');
      if (!/^\d{6,8}$/.test(code)) {
        ctx.status = 400;
        return renderSent(deps, ctx, state, ctx.state.i18n.t('codes.signIn.codeFormat'));
      }
      const outcome = await deps.emailSignIn.verifyCode({
        challengeId: state.challengeId,
        code,
        browserBinding: emailBinding(ctx),
        origin: interactionOrigin(ctx),
      });
      if (outcome.result === 'accepted') return signedIn(ctx, outcome.userId);
      const { i18n } = ctx.state;
      if (outcome.result === 'invalid') {
        ctx.status = 401;
        return renderSent(deps, ctx, state, i18n.t('codes.signIn.wrongCode', { attempts: outcome.attemptsLeft }));
      }
      // Expired or out of attempts: this code is done; a new one must be asked for.
      ctx.status = outcome.result === 'expired' ? 410 : 400;
      return renderSent(deps, ctx, state, i18n.t(`codes.signIn.${outcome.result}`));
    },
  );

  /** Where a link opened in this browser sends it (web/email/): this interaction's cookie proves the sign-in. */
  router.get('/email-sign-in/resume', firstStep, async (ctx: WithInteractionContext) => {
    const { uid } = ctx.state.interaction;
    const handoff = await store.takeHandoff(uid);
    if (!handoff) {
      ctx.redirect(underBase(ctx, `/interaction/${uid}`));
      return;
    }
    return signedIn(ctx, handoff.userId);
  });
}

/** "Check your mail": the code field (code mode, or a link opened elsewhere), resend with its cooldown. */
async function renderSent(
  deps: InteractionDeps,
  ctx: WithInteractionContext,
  state: EmailSignInRequestState,
  error?: string,
): Promise<void> {
  const { uid } = ctx.state.interaction;
  const { i18n } = ctx.state;
  const waitSeconds = secondsUntilResend(state.sentAt, state.resendAfterSeconds, deps.clock());
  ctx.type = 'html';
  ctx.body = await deps.views.render('interaction/email-sign-in-sent', {
    title: i18n.t('codes.signIn.sentTitle'),
    i18n,
    uid,
    csrf: deps.csrf.token(uid),
    email: state.email,
    mode: state.mode,
    codeLength: deps.config.codes.codeLength,
    resent: ctx.query.resent === '1',
    waitSeconds,
    error,
  });
}
