import type Router from '@koa/router';
import { bodyParser } from '../../http/body-parser.js';
import { isUuid } from '../../storage/ids.js';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { AppError, assertThat } from '../../http/errors.js';
import type { FormGuard, WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';
import { refusal } from '../../http/webauthn-refusal.js';
import { presentedCsrfToken, requireJsonFromOrigin } from '../../security/csrf.js';
import type { PortalDeps, WithPortalContext } from './context.js';
import type { PortalSessions } from './session.js';
import { accountOrigin } from './account-client.js';
import { SIGN_OUT_OTHERS, signOutOthersForm, signOutOthersIfAsked } from './sign-out-others.js';
import { underBase } from '../../http/base-path.js';

/**
 * Passkeys and security keys on /account:
 *   POST /account/webauthn/registration/options  { kind }             → creation options
 *   POST /account/webauthn/registration/verify   { response, label }  → { redirectTo }
 *   POST /account/webauthn/:id/rename  (form: label)
 *   POST /account/webauthn/:id/remove  (form)
 * Registration is JSON for views/public/webauthn.js; rename and remove are plain forms. All
 * need the account session, its CSRF token and a recent sign-in; each change is audited (in
 * the WebAuthn service).
 */

/** The account page's notice after each change (?done=…), as catalogue keys. */
export const WEBAUTHN_NOTICES: Record<string, string> = {
  'key-added': 'account.notices.keyAdded',
  'key-renamed': 'account.notices.keyRenamed',
  'key-removed': 'account.notices.keyRemoved',
};

const registrationOptionsInput = z.object({ kind: z.enum(['passkey', 'security_key']) });
const registrationInput = z.object({
  response: z.unknown(),
  label: z.string().max(200).optional(),
  /** "Sign out my other devices" (src/web/account/sign-out-others.ts); absent is unticked. */
  [SIGN_OUT_OTHERS]: z.boolean().optional(),
});

/** A key's new name; the WebAuthn service trims and bounds it. */
const renameForm = z.object({ label: text() });

function parse<T>(schema: z.ZodType<T>, ctx: Context): T {
  const parsed = schema.safeParse((ctx.request as { body?: unknown }).body ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  // Only our own script sends these bodies: a developer's message, naming the field, untranslated.
  throw new AppError('invalid_request', 400, `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
}

export function addWebAuthnRoutes(
  router: Router,
  deps: PortalDeps,
  tools: { sessions: PortalSessions; sensitive: FormGuard },
): void {
  const { webauthn } = deps;
  const { sessions, sensitive } = tools;
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '64kb' });
  const binding = (ctx: WithPortalContext) => `account:${ctx.state.portal.sessionUid}`;

  const checkJsonCsrf = async (ctx: WithPortalContext, next: Next) => {
    assertThat(
      deps.csrf.verify(`account:${ctx.state.portal.sessionUid}`, presentedCsrfToken(ctx)),
      () => new AppError('forbidden', 403, 'common.pageExpired'),
    );
    await next();
  };
  /** requireRecentSignIn answers a page with a redirect; a script gets an error code it acts on. */
  const requireRecentSignInJson = async (ctx: WithPortalContext, next: Next) => {
    let recent = false;
    await sessions.requireRecentSignIn(ctx, async () => {
      recent = true;
    });
    if (!recent) {
      ctx.remove('location');
      throw new AppError('reauthentication_required', 403, 'webauthn.reauthenticate');
    }
    await next();
  };
  const ceremony = [
    requireJsonFromOrigin(new URL(deps.config.issuer).origin),
    json,
    sessions.require,
    checkJsonCsrf,
    requireRecentSignInJson,
  ];

  /** The key named in the path; another user's key or a malformed id is simply not found. */
  const keyId = (ctx: WithPortalContext): string => {
    const id = String(ctx.params.id ?? '');
    assertThat(isUuid(id), () => new AppError('not_found', 404, 'webauthn.keyNotFound'));
    return id;
  };

  router.post('/webauthn/registration/options', ...ceremony, async (ctx: WithPortalContext) => {
    const { kind } = parse(registrationOptionsInput, ctx);
    const user = await deps.accounts.findActiveUser(ctx.state.portal.userId);
    assertThat(user, () => new AppError('session_expired', 401, 'webauthn.sessionEnded'));
    ctx.body = await webauthn.registrationOptions(binding(ctx), user, kind);
  });

  router.post('/webauthn/registration/verify', ...ceremony, async (ctx: WithPortalContext) => {
    const input = parse(registrationInput, ctx);
    const result = await webauthn.verifyRegistration(
      binding(ctx),
      ctx.state.portal.userId,
      input.response,
      input.label ?? '',
      accountOrigin(ctx),
    );
    if (!result.ok) throw refusal(result.reason);
    await signOutOthersIfAsked(deps, ctx, 'factor-changed', input[SIGN_OUT_OTHERS] === true);
    ctx.body = {
      redirectTo: underBase(ctx, '/account?done=key-added'),
      key: { id: result.key.id, label: result.key.label, kind: result.key.kind },
    };
  });

  router.post(
    '/webauthn/:id/rename',
    ...sensitive(renameForm),
    async (ctx: WithPortalContext & WithForm<typeof renameForm>) => {
      const renamed = await webauthn.rename(
        ctx.state.portal.userId,
        keyId(ctx),
        ctx.state.form.label,
        accountOrigin(ctx),
      );
      assertThat(renamed, () => new AppError('not_found', 404, 'webauthn.keyNotFound'));
      ctx.status = 303;
      ctx.redirect(underBase(ctx, '/account?done=key-renamed'));
    },
  );

  router.post(
    '/webauthn/:id/remove',
    ...sensitive(signOutOthersForm),
    async (ctx: WithPortalContext & WithForm<typeof signOutOthersForm>) => {
      const removed = await webauthn.remove(ctx.state.portal.userId, keyId(ctx), accountOrigin(ctx));
      assertThat(removed, () => new AppError('not_found', 404, 'webauthn.keyNotFound'));
      await signOutOthersIfAsked(deps, ctx, 'factor-changed', ctx.state.form.sign_out_others);
      ctx.status = 303;
      ctx.redirect(underBase(ctx, '/account?done=key-removed'));
    },
  );
}
