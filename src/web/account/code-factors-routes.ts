import type Router from '@koa/router';
import { z } from 'zod';
import type { CodeFactorSummary } from '../../codes/code-factors.js';
import { emailSecondFactorAllowed } from '../../codes/code-policy.js';
import { underBase } from '../../http/base-path.js';
import { RateLimitedError } from '../../security/rate-limits.js';
import { DEFAULT_FACTOR_METHODS } from '../../storage/phones.repository.js';
import type { FormGuard, WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';
import { localizedFormError } from '../kit/form-errors.js';
import { resendTooSoon } from '../kit/resend-wait.js';
import { accountOrigin } from './account-client.js';
import type { PortalDeps, WithPortalContext } from './context.js';
import { signOutOthersForm, signOutOthersIfAsked } from './sign-out-others.js';

/** The `?done=` values of these routes and their notices (router.ts shows them at the top). */
export const CODE_FACTOR_NOTICES: Record<string, string> = {
  'email-code-on': 'codes.account.notices.emailOn',
  'email-code-off': 'codes.account.notices.emailOff',
  phone: 'codes.account.notices.phone',
  'phone-removed': 'codes.account.notices.phoneRemoved',
  'default-factor': 'codes.account.notices.defaultFactor',
};

/** The number as typed; the codes domain parses and checks it. */
const phoneForm = z.object({ phone_number: text({ trim: true }) });
/** The enrolment's challenge (bound to the user by the domain), the number it went to and the code. */
const confirmForm = signOutOthersForm.extend({
  challenge_id: text({ trim: true }),
  phone_number: text({ trim: true }),
  code: text({ trim: true }),
});
/** "Send a new code" on the code's page: the number again, and the challenge it replaces (to show the page again). */
const resendForm = phoneForm.extend({ challenge_id: text({ trim: true }) });
const defaultForm = z.object({ method: z.enum([...DEFAULT_FACTOR_METHODS, 'none']) });

/** What views/account/_code-factors.ejs shows. */
export interface CodeFactorsSection {
  codeFactors: CodeFactorSummary;
  /** Whether the deployment offers emailed codes and SMS at all (config codes.emailSecondFactor, sms.enabled). */
  emailCodesOffered: boolean;
  smsOffered: boolean;
  defaultCountry: string;
}

/** Loads the section of the account page (router.ts spreads it into the page's locals). */
export async function loadCodeFactorsSection(
  deps: Pick<PortalDeps, 'codeFactors' | 'config'>,
  ctx: WithPortalContext,
): Promise<CodeFactorsSection> {
  return {
    codeFactors: await deps.codeFactors.summary(ctx.state.portal.userId),
    emailCodesOffered: emailSecondFactorAllowed(deps.config),
    smsOffered: deps.config.sms.enabled,
    defaultCountry: deps.config.sms.defaultCountry,
  };
}

/**
 * /account's email and SMS second factors (issue 18) and the choice of the factor asked for
 * first. Every route is a CSRF-checked POST that needs a recent sign-in (`sensitive`), like
 * every other factor change; the codes domain checks, limits and audits.
 *
 * Adding a phone is two pages: the number (texted a code), then the code. The challenge id and
 * number ride in hidden fields of the second page: the domain binds the challenge to the user
 * and to the number it was sent to, so neither field can be swapped for another's.
 */
export function addCodeFactorRoutes(router: Router, deps: PortalDeps, sensitive: FormGuard): void {
  const { codeFactors, views } = deps;
  const done = (ctx: WithPortalContext, what: keyof typeof CODE_FACTOR_NOTICES) => {
    ctx.status = 303;
    ctx.redirect(underBase(ctx, `/account?done=${what}`));
  };

  async function render(ctx: WithPortalContext, view: 'phone-add' | 'phone-confirm', locals: object, status = 200) {
    const { i18n } = ctx.state;
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await views.render(`account/${view}`, {
      title: i18n.t(`codes.account.${view === 'phone-add' ? 'phone.addTitle' : 'phone.confirmTitle'}`),
      i18n,
      portal: ctx.state.portal,
      defaultCountry: deps.config.sms.defaultCountry,
      ...locals,
    });
  }

  /** Texts an enrolment code; a refusal is shown on the page that asked (the number's, or the code's). */
  async function sendEnrolment(ctx: WithPortalContext, typed: string, from: 'phone-add' | 'phone-confirm') {
    const { i18n } = ctx.state;
    /** Too soon (the cooldown, or a cap): the page says how long to wait, as the Retry-After header does. */
    const tooSoon = (seconds: number) => {
      const error = resendTooSoon(ctx, i18n, seconds);
      return from === 'phone-add'
        ? render(ctx, 'phone-add', { phoneNumber: typed, error }, 429)
        : render(ctx, 'phone-confirm', { ...pendingOf(ctx), resendAfterSeconds: seconds, error }, 429);
    };
    // The cooldown the code page shows, on the service's clock: too early, nothing is sent.
    const wait = await codeFactors.enrolmentResendWait(ctx.state.portal.userId);
    if (wait > 0) return tooSoon(wait);
    try {
      const sent = await codeFactors.startPhoneEnrolment({
        userId: ctx.state.portal.userId,
        phoneNumber: typed,
        defaultCountry: deps.config.sms.defaultCountry || undefined,
        locale: i18n.locale,
        origin: accountOrigin(ctx),
      });
      return render(ctx, 'phone-confirm', {
        challengeId: sent.challengeId,
        phoneNumber: sent.phoneNumber,
        resendAfterSeconds: sent.resendAfterSeconds,
        resent: from === 'phone-confirm',
      });
    } catch (error) {
      // The shared limiter's cooldown (another replica's send) or a daily cap.
      if (error instanceof RateLimitedError) return tooSoon(error.retryAfterSeconds);
      const refused = localizedFormError(error, i18n, {}, 'codes.account.phone.invalid');
      if (!refused) throw error;
      return render(ctx, 'phone-add', { phoneNumber: typed, error: refused.message }, 400);
    }
  }

  /** The enrolment the confirm page is about, from its hidden fields. */
  const pendingOf = (ctx: WithPortalContext) => {
    const form = (ctx.state as { form?: Partial<Record<string, unknown>> }).form ?? {};
    return {
      challengeId: typeof form.challenge_id === 'string' ? form.challenge_id : '',
      phoneNumber: typeof form.phone_number === 'string' ? form.phone_number : '',
    };
  };

  router.post('/codes/email/enable', ...sensitive(), async (ctx: WithPortalContext) => {
    await codeFactors.enableEmail(ctx.state.portal.userId, accountOrigin(ctx));
    done(ctx, 'email-code-on');
  });

  router.post('/codes/email/disable', ...sensitive(), async (ctx: WithPortalContext) => {
    await codeFactors.disableEmail(ctx.state.portal.userId, accountOrigin(ctx));
    done(ctx, 'email-code-off');
  });

  router.post('/phone/start', ...sensitive(phoneForm), (ctx: WithPortalContext & WithForm<typeof phoneForm>) =>
    sendEnrolment(ctx, ctx.state.form.phone_number, 'phone-add'),
  );

  router.post('/phone/resend', ...sensitive(resendForm), (ctx: WithPortalContext & WithForm<typeof resendForm>) =>
    sendEnrolment(ctx, ctx.state.form.phone_number, 'phone-confirm'),
  );

  router.post(
    '/phone/confirm',
    ...sensitive(confirmForm),
    async (ctx: WithPortalContext & WithForm<typeof confirmForm>) => {
      const { challenge_id: challengeId, phone_number: phoneNumber, code } = ctx.state.form;
      const outcome = await codeFactors.confirmPhoneEnrolment({
        userId: ctx.state.portal.userId,
        challengeId,
        code,
        origin: accountOrigin(ctx),
      });
      if (outcome.result === 'accepted') {
        await signOutOthersIfAsked(deps, ctx, 'factor-changed', ctx.state.form.sign_out_others);
        return done(ctx, 'phone');
      }
      const { i18n } = ctx.state;
      const error =
        outcome.result === 'invalid'
          ? i18n.t('codes.account.phone.wrongCode', { attempts: i18n.formatNumber(outcome.attemptsLeft) })
          : i18n.t('codes.account.phone.askAgain');
      const resendAfterSeconds = await codeFactors.enrolmentResendWait(ctx.state.portal.userId);
      return render(ctx, 'phone-confirm', { challengeId, phoneNumber, resendAfterSeconds, error }, 400);
    },
  );

  router.post('/phone/remove', ...sensitive(), async (ctx: WithPortalContext) => {
    await codeFactors.removePhone(ctx.state.portal.userId, accountOrigin(ctx));
    done(ctx, 'phone-removed');
  });

  router.post(
    '/second-factors/default',
    ...sensitive(defaultForm),
    async (ctx: WithPortalContext & WithForm<typeof defaultForm>) => {
      const { method } = ctx.state.form;
      await codeFactors.setDefaultFactor(
        ctx.state.portal.userId,
        method === 'none' ? null : method,
        accountOrigin(ctx),
      );
      done(ctx, 'default-factor');
    },
  );
}
