import type Router from '@koa/router';
import { bodyParser } from '../../http/body-parser.js';
import type { Next } from 'koa';
import { z } from 'zod';
import { describeAuthentication, firstFactorOf } from '../../accounts/authentication-level.js';
import { AppError, assertThat } from '../../http/errors.js';
import { presentedCsrfToken, requireJsonFromOrigin } from '../../security/csrf.js';
import { refusal } from '../../http/webauthn-refusal.js';
import { saveInteractionResult } from './interaction-result.js';
import {
  interactionOrigin,
  rememberChoice,
  signedInAccount,
  type InteractionDeps,
  type WithInteractionContext,
} from './context.js';

/**
 * WebAuthn in the sign-in steps, as JSON endpoints for views/public/webauthn.js:
 *   POST /interaction/:uid/webauthn/passkey/options | verify   (login step: passkey alone)
 *   POST /interaction/:uid/webauthn/key/options | verify       (mfa step: a registered key)
 * Each checks the Origin, the page's CSRF token and that its step is the pending one. A
 * verified ceremony finishes the interaction and answers { redirectTo } (the resume URL),
 * which the script follows; a refusal is a 4xx { error, error_description }.
 */

const ceremony = z.object({ response: z.unknown() });
/** A passkey sign-in may say whether to keep the user signed in (the login page's checkbox). */
const rememberField = z.object({ remember: z.boolean().optional() });

function responseOf(ctx: WithInteractionContext): unknown {
  const parsed = ceremony.safeParse((ctx.request as { body?: unknown }).body);
  assertThat(
    parsed.success && parsed.data.response !== undefined,
    () => new AppError('invalid_request', 400, 'webauthn.responseRequired'),
  );
  return parsed.data.response;
}

/** The sign-in page's "Keep me signed in" as the script sent it; absent or malformed: the configured default. */
function rememberOf(ctx: WithInteractionContext, byDefault: boolean): boolean {
  const parsed = rememberField.safeParse((ctx.request as { body?: unknown }).body);
  return parsed.success ? (parsed.data.remember ?? byDefault) : byDefault;
}

export function addWebAuthnRoutes(router: Router, deps: InteractionDeps): void {
  const { webauthn, config } = deps;
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '64kb' });
  const binding = (ctx: WithInteractionContext) => `interaction:${ctx.state.interaction.uid}`;

  /** The JSON twin of the router's requirePrompt: same step and CSRF checks, token in a header. */
  function requireStep(...names: string[]) {
    return async (ctx: WithInteractionContext, next: Next) => {
      const { prompt, uid } = ctx.state.interaction;
      assertThat(names.includes(prompt.name), () => new AppError('invalid_request', 400, 'login.stepNotPending'));
      assertThat(
        deps.csrf.verify(uid, presentedCsrfToken(ctx)),
        () => new AppError('forbidden', 403, 'common.pageExpired'),
      );
      await next();
    };
  }
  const step = (...names: string[]) => [requireJsonFromOrigin(deps.origin), json, requireStep(...names)];

  async function finish(ctx: WithInteractionContext, result: Record<string, unknown>, merge: boolean) {
    const redirectTo = await saveInteractionResult(ctx.state.interaction, result, merge);
    ctx.body = { redirectTo };
  }

  // Passkey sign-in names no account before the assertion is verified: limited per address.
  const limitPasskeys = (ctx: WithInteractionContext, next: Next) => deps.limits.consume(ctx, 'passkeyIp').then(next);

  router.post(
    '/webauthn/passkey/options',
    ...step('login', 'select_account'),
    limitPasskeys,
    async (ctx: WithInteractionContext) => {
      ctx.body = await webauthn.passkeyOptions(binding(ctx));
    },
  );

  router.post(
    '/webauthn/passkey/verify',
    ...step('login', 'select_account'),
    limitPasskeys,
    async (ctx: WithInteractionContext) => {
      const isActive = async (userId: string) => Boolean(await deps.accounts.findActiveUser(userId));
      const result = await webauthn.verifyPasskey(binding(ctx), responseOf(ctx), isActive, interactionOrigin(ctx));
      if (!result.ok) throw refusal(result.reason);
      const { amr, level } = describeAuthentication('passkey', undefined, result.use);
      // `mfa` in the result ends the second step for this interaction (src/oidc/policy.ts): a
      // passkey with user verification is already two factors (amr has "mfa").
      await finish(
        ctx,
        {
          select_account: {},
          login: {
            accountId: result.userId,
            amr,
            acr: config.acr[level],
            remember: rememberOf(ctx, config.sessions.rememberByDefault),
          },
          mfa: { method: 'passkey' },
        },
        false,
      );
    },
  );

  router.post('/webauthn/key/options', ...step('mfa'), async (ctx: WithInteractionContext) => {
    const options = await webauthn.secondFactorOptions(binding(ctx), signedInAccount(ctx));
    assertThat(options, () => new AppError('no_security_key', 400, 'webauthn.noKey'));
    ctx.body = options;
  });

  router.post('/webauthn/key/verify', ...step('mfa'), async (ctx: WithInteractionContext) => {
    const accountId = signedInAccount(ctx);
    const result = await webauthn.verifySecondFactor(binding(ctx), accountId, responseOf(ctx), interactionOrigin(ctx));
    if (!result.ok) throw refusal(result.reason);
    const { amr, level } = describeAuthentication(
      firstFactorOf(ctx.state.interaction.session?.amr),
      'security_key',
      result.use,
    );
    await finish(
      ctx,
      {
        login: { accountId, amr, acr: config.acr[level], remember: rememberChoice(ctx) },
        mfa: { method: 'security_key' },
      },
      true,
    );
  });
}
