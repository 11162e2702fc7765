import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import type { SecondFactor } from '../../accounts/authentication-level.js';
import { RateLimitedError } from '../../security/rate-limits.js';
import type { FormGuard, WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';
import { resendTooSoon } from '../kit/resend-wait.js';
import {
  clientMetadataOf,
  signedInAccount,
  interactionOrigin,
  type InteractionDeps,
  type WithInteractionContext,
} from './context.js';
import { renderMfa } from './mfa.js';
import { codeChallenges, codeChannelsOf, type CodeChannel } from './code-channels.js';

/** "Send a code by email / SMS": the channel the user chose. */
const sendForm = z.object({ channel: text() });
const codeForm = z.object({ code: text({ trim: true }) });

/**
 * The second step by a code sent by email or SMS (issue 18): the user picks the channel, the
 * code is sent (codeFactors.sendCode, with its limits: 429 + Retry-After past them), and the
 * code entered finishes the step. A channel the sign-in may not offer (turned off, or the RP
 * asks for the phishing-resistant level) is refused and the step stays.
 */
export function addCodeFactorRoutes(
  router: Router,
  deps: InteractionDeps,
  tools: { form: FormGuard; requirePrompt: (...names: string[]) => Middleware },
  finishSecondStep: (ctx: WithInteractionContext, second: SecondFactor) => Promise<void>,
): void {
  const { form, requirePrompt } = tools;
  const challenges = codeChallenges(deps.kv);

  router.post(
    '/mfa/send-code',
    ...form(sendForm, requirePrompt('mfa')),
    async (ctx: WithInteractionContext & WithForm<typeof sendForm>) => {
      const accountId = signedInAccount(ctx);
      const channel = ctx.state.form.channel;
      const { offered } = await codeChannelsOf(deps, ctx, accountId);
      if (!(offered as string[]).includes(channel)) {
        ctx.status = 400;
        return renderMfa(deps, ctx, 'codes.secondStep.notOffered');
      }
      const { uid } = ctx.state.interaction;
      const { i18n } = ctx.state;
      // The visible cooldown of the code this page sent by the same channel, on the page's clock.
      const earlier = await challenges.peek(uid, deps.clock());
      if (earlier?.channel === channel && earlier.waitSeconds > 0) {
        return renderMfa(deps, ctx, resendTooSoon(ctx, i18n, earlier.waitSeconds));
      }
      try {
        const sent = await deps.codeFactors.sendCode({
          userId: accountId,
          channel: channel as CodeChannel,
          locale: i18n.locale,
          clientMetadata: await clientMetadataOf(deps, ctx),
          origin: interactionOrigin(ctx),
        });
        await challenges.put(uid, { ...sent, channel: channel as CodeChannel, sentAt: deps.clock() });
      } catch (error) {
        // A send limit (another browser's cooldown, the account's or number's budget): the step's page, 429.
        if (!(error instanceof RateLimitedError)) throw error;
        return renderMfa(deps, ctx, resendTooSoon(ctx, i18n, error.retryAfterSeconds));
      }
      return renderMfa(deps, ctx);
    },
  );

  router.post(
    '/mfa/sent-code',
    ...form(codeForm, requirePrompt('mfa')),
    async (ctx: WithInteractionContext & WithForm<typeof codeForm>) => {
      const { uid } = ctx.state.interaction;
      const accountId = signedInAccount(ctx);
      const sent = await challenges.peek(uid, deps.clock());
      const { offered } = await codeChannelsOf(deps, ctx, accountId);
      // Checked again at entry: the RP's level or the policy may rule the channel out.
      if (!sent || !offered.includes(sent.channel)) {
        ctx.status = 400;
        return renderMfa(deps, ctx, 'codes.secondStep.notOffered');
      }
      const code = ctx.state.form.code.replace(/\s+/g, '');
      if (!/^\d{6,8}$/.test(code)) {
        ctx.status = 400;
        return renderMfa(deps, ctx, 'codes.signIn.codeFormat');
      }
      await deps.limits.consume(ctx, 'secondFactorAccount', accountId);
      const outcome = await deps.codeFactors.verifyCode({
        userId: accountId,
        challengeId: sent.challengeId,
        code,
        origin: interactionOrigin(ctx),
      });
      if (outcome.result === 'accepted') {
        await challenges.drop(uid);
        return finishSecondStep(ctx, outcome.channel === 'sms' ? 'sms' : 'email_code');
      }
      const { i18n } = ctx.state;
      if (outcome.result === 'invalid') {
        ctx.status = 401;
        return renderMfa(deps, ctx, i18n.t('codes.signIn.wrongCode', { attempts: outcome.attemptsLeft }));
      }
      await challenges.drop(uid);
      ctx.status = outcome.result === 'expired' ? 410 : 400;
      return renderMfa(deps, ctx, `codes.signIn.${outcome.result}`);
    },
  );
}
