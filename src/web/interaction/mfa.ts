import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { describeAuthentication, firstFactorOf, type SecondFactor } from '../../accounts/authentication-level.js';
import { AppError, assertThat } from '../../http/errors.js';
import { lockedOutMessage } from '../../i18n/duration.js';
import type { FormGuard, WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';
import { codeChallenges, stepChannels } from './code-channels.js';
import { focusedBlock, secondStepOrder, type MfaBlock } from './mfa-order.js';
import {
  clientMetadataOf,
  signedInAccount,
  rememberChoice,
  interactionOrigin,
  type InteractionDeps,
  type WithInteractionContext,
} from './context.js';

const ENROLMENT_TTL_SECONDS = 600;
const completedKey = (uid: string) => `mfa-completed:${uid}`;

type Finish = (ctx: WithInteractionContext, result: Record<string, unknown>, merge?: boolean) => Promise<void>;

/** A code from the app, or (method=recovery_code) a recovery code; any other method reads as the app's. */
const codeForm = z.object({ method: text(), code: text() });
/** The first code of the app being set up. */
const enrolForm = z.object({ code: text() });

/** Finishes the second step with `second`: the amr and level it adds to the first factor. */
export function secondStepFinisher(deps: InteractionDeps, finish: Finish) {
  return async (ctx: WithInteractionContext, second: SecondFactor): Promise<void> => {
    const { amr, level } = describeAuthentication(firstFactorOf(ctx.state.interaction.session?.amr), second);
    await finish(
      ctx,
      {
        login: { accountId: signedInAccount(ctx), amr, acr: deps.config.acr[level], remember: rememberChoice(ctx) },
        mfa: { method: second },
      },
      true,
    );
  };
}

/** The second sign-in step: a code from an authenticator app or a recovery code, or enrolment. */
export function addMfaRoutes(
  router: Router,
  deps: InteractionDeps,
  tools: { form: FormGuard; requirePrompt: (...names: string[]) => Middleware },
  finish: Finish,
): void {
  const { form, requirePrompt } = tools;
  const { secondFactors, kv, pendingTotp } = deps;

  const finishSecondStep = secondStepFinisher(deps, finish);

  router.post(
    '/mfa/code',
    ...form(codeForm, requirePrompt('mfa')),
    async (ctx: WithInteractionContext & WithForm<typeof codeForm>) => {
      const method = ctx.state.form.method === 'recovery_code' ? 'recovery_code' : 'totp';
      const { code } = ctx.state.form;
      const accountId = signedInAccount(ctx);
      await deps.limits.consume(ctx, 'secondFactorAccount', accountId);
      const { result, retryAfterSeconds } =
        code.length > 64
          ? { result: 'invalid' as const, retryAfterSeconds: null }
          : await secondFactors.verifyCode(accountId, method, code, interactionOrigin(ctx));
      if (result === 'accepted') return finishSecondStep(ctx, method);
      ctx.status = result === 'throttled' ? 429 : 401;
      if (retryAfterSeconds) ctx.set('Retry-After', String(retryAfterSeconds));
      const messages = {
        throttled: lockedOutMessage(ctx.state.i18n, retryAfterSeconds ?? 1),
        replayed: 'mfa.replayed',
        invalid: method === 'totp' ? 'mfa.invalidTotp' : 'mfa.invalidRecoveryCode',
      } as const;
      return renderMfa(deps, ctx, messages[result]);
    },
  );

  router.post(
    '/mfa/enrol-totp',
    ...form(enrolForm, requirePrompt('mfa')),
    async (ctx: WithInteractionContext & WithForm<typeof enrolForm>) => {
      const { uid } = ctx.state.interaction;
      const accountId = signedInAccount(ctx);
      // Taken, not read: of two submissions (a double click) only one enrols, or each would
      // store the secret and new recovery codes, and one page would show codes already void.
      const secret = await pendingTotp.take(uid);
      if (!secret) return renderMfa(deps, ctx, 'mfa.enrol.expired');
      // Enrolment at sign-in is only for an account with no factor yet. One set up since this
      // page was shown (another browser, /account) must not be replaced by whoever holds the
      // page: that would swap out the user's authenticator with the password alone.
      if ((await secondFactors.summary(accountId)).enrolled) {
        ctx.status = 409;
        return renderMfa(deps, ctx, 'mfa.enrol.alreadyEnrolled');
      }
      // The secret, new recovery codes and both events commit together (src/accounts/second-factors.ts).
      const enrolled = await secondFactors.enrolTotp(
        accountId,
        secret,
        ctx.state.form.code,
        'replace',
        interactionOrigin(ctx),
      );
      if (!enrolled.ok) {
        await pendingTotp.put(uid, secret);
        ctx.status = 401;
        return renderMfa(deps, ctx, 'mfa.enrol.wrongCode');
      }
      const codes = enrolled.recoveryCodes;
      await kv.set(completedKey(uid), 'totp', ENROLMENT_TTL_SECONDS);
      ctx.type = 'html';
      ctx.body = await deps.views.render('interaction/recovery-codes', {
        title: ctx.state.i18n.t('mfa.recoveryCodes.title'),
        i18n: ctx.state.i18n,
        uid,
        csrf: deps.csrf.token(uid),
        codes,
      });
    },
  );

  router.post('/mfa/continue', ...form(undefined, requirePrompt('mfa')), async (ctx: WithInteractionContext) => {
    const method = await kv.take(completedKey(ctx.state.interaction.uid));
    assertThat(method === 'totp', () => new AppError('invalid_request', 400, 'mfa.enrol.nothingToContinue'));
    return finishSecondStep(ctx, 'totp');
  });
}

/**
 * The step's page: the factors the user has, or enrolment of an authenticator app when none.
 * `errorKey` names the catalogue message of the error line.
 */
export async function renderMfa(deps: InteractionDeps, ctx: WithInteractionContext, errorKey?: string): Promise<void> {
  const { uid } = ctx.state.interaction;
  const { i18n } = ctx.state;
  const error = errorKey && i18n.message(errorKey);
  const accountId = signedInAccount(ctx);
  // One statement for all three: the page is shown at every second step and again after each refused code.
  const {
    factors: summary,
    codes: codeSummary,
    available,
  } = await deps.codeFactors.signInFactors(accountId, await clientMetadataOf(deps, ctx));
  const codes = stepChannels(deps, ctx, available);
  const csrf = deps.csrf.token(uid);
  ctx.type = 'html';
  if (summary.enrolled || codes.enrolled.length > 0) {
    const peeked = await codeChallenges(deps.kv).peek(uid, deps.clock());
    const sent = peeked && codes.offered.includes(peeked.channel) ? peeked : undefined;
    const shown = new Set<MfaBlock>([
      ...(summary.webauthn > 0 ? (['webauthn'] as const) : []),
      ...(summary.totp ? (['totp'] as const) : []),
      ...(summary.recoveryCodes > 0 ? (['recovery'] as const) : []),
      ...codes.offered,
    ]);
    const order = secondStepOrder({ shown, sent: sent?.channel, defaultFactor: codeSummary.defaultFactor });
    ctx.body = await deps.views.render('interaction/mfa', {
      title: i18n.t('mfa.title'),
      i18n,
      uid,
      csrf,
      error,
      totp: summary.totp,
      recoveryCodes: summary.recoveryCodes,
      webauthn: summary.webauthn,
      order,
      focus: focusedBlock(order),
      // Only codes were set up, and this RP wants more than any code reaches.
      codesNotEnough: codes.enrolled.length > 0 && codes.offered.length === 0 && !summary.enrolled,
      sent,
      phone: codes.offered.includes('sms') ? maskedPhone(codeSummary.phone) : '',
      codeLength: deps.config.codes.codeLength,
    });
    return;
  }
  const user = await deps.accounts.findActiveUser(accountId);
  assertThat(user, () => new AppError('session_not_found', 400, 'login.sessionEnded'));
  const pending = await deps.pendingTotp.peek(uid);
  const enrolment = await deps.totp.startEnrolment(user.email, pending);
  if (!pending) await deps.pendingTotp.put(uid, enrolment.secret);
  ctx.body = await deps.views.render('interaction/mfa-enrol', {
    title: i18n.t('mfa.enrol.title'),
    i18n,
    uid,
    csrf,
    error,
    qrSvg: enrolment.qrSvg,
    secret: enrolment.secret,
  });
}

/** The number an SMS goes to, as the page shows it: its last digits only. */
function maskedPhone(phone: { phoneNumber: string } | null): string {
  return phone ? `••• ${phone.phoneNumber.slice(-3)}` : '';
}
