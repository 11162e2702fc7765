import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { underBase } from '../../http/base-path.js';
import { requestOrigin } from '../../http/request-origin.js';
import { translatorOf } from '../../http/localize.js';
import type { ViewRenderer } from '../../http/views.js';
import type { Services, SelfServiceDeps } from '../../services.js';
import type { KeyValueStore } from '../../storage/key-value-store.js';
import type { FormGuard, WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';
import { clearEmailBinding, emailBinding, emailSignInStore } from '../kit/email-sign-in.js';

export interface SignInLinkDeps extends Pick<Services, 'emailSignIn'> {
  selfService: SelfServiceDeps;
  views: ViewRenderer;
  kv: KeyValueStore;
}

const linkForm = z.object({ token: text() });
/** A token as generateToken makes it (src/codes/secrets.ts); anything else is simply not a valid link. */
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;
/** An interaction uid, the shape oidc-provider's have. */
const UID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The mailed sign-in link, `<issuer>/email/sign-in?token=…` (docs/factors.md, "Email sign-in").
 * Opened in the browser that asked (its binding cookie is here), GET signs in: the result is
 * handed to the interaction, whose cookie only its own path receives (as web/federation/
 * does). Elsewhere (another browser or device, or a mail scanner) GET only shows a button:
 * its POST spends the link and shows a code to type where the sign-in was asked for; this
 * browser is signed in to nothing. A scanner's GET therefore never spends the link.
 */
export function addSignInLinkRoutes(router: Router, deps: SignInLinkDeps, form: FormGuard): void {
  const store = emailSignInStore(deps.kv);
  const { publicForm } = deps.selfService;

  async function render(ctx: Context, view: string, titleKey: string, locals: Record<string, unknown>, status = 200) {
    const i18n = translatorOf(ctx);
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await deps.views.render(`email-links/${view}`, { title: i18n.t(titleKey), i18n, ...locals });
  }

  const invalid = (ctx: Context) => render(ctx, 'sign-in-invalid', 'codes.signIn.link.invalidTitle', {}, 400);

  /** Opens the link with this browser's binding ('' elsewhere): signs in, shows a code, or refuses. */
  async function open(ctx: Context, token: string, binding: string) {
    if (!TOKEN.test(token)) return invalid(ctx);
    const outcome = await deps.emailSignIn.openLink({ token, browserBinding: binding, origin: requestOrigin(ctx) });
    if (outcome.result === 'invalid') return invalid(ctx);
    if (outcome.result === 'other_browser') {
      return render(ctx, 'sign-in-code', 'codes.signIn.link.codeTitle', {
        code: outcome.code,
        validMinutes: outcome.validMinutes,
      });
    }
    clearEmailBinding(ctx);
    const uid = outcome.interactionUid;
    if (!uid || !UID.test(uid)) return render(ctx, 'sign-in-restart', 'codes.signIn.link.restartTitle', {}, 410);
    await store.putHandoff(uid, outcome.userId);
    ctx.status = 303;
    ctx.redirect(underBase(ctx, `/interaction/${uid}/email-sign-in/resume`));
  }

  router.get('/sign-in', publicForm.prepare, async (ctx: Context) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const binding = emailBinding(ctx);
    if (binding) return open(ctx, token, binding);
    if (!TOKEN.test(token)) return invalid(ctx);
    return render(ctx, 'sign-in-confirm', 'codes.signIn.link.confirmTitle', {
      token,
      csrf: ctx.state.formCsrf as string,
    });
  });

  router.post('/sign-in', ...form(linkForm), (ctx: WithForm<typeof linkForm>) =>
    open(ctx, ctx.state.form.token, emailBinding(ctx)),
  );
}
