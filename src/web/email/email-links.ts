import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { noStore } from '../../http/security-headers.js';
import { requestOrigin } from '../../http/request-origin.js';
import { requireSameOrigin } from '../../security/csrf.js';
import type { ViewRenderer } from '../../http/views.js';
import type { SelfServiceDeps, Services } from '../../services.js';
import type { KeyValueStore } from '../../storage/key-value-store.js';
import { translatorOf } from '../../http/localize.js';
import { createForms, type WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';
import { addSignInLinkRoutes } from './sign-in-link.js';

export interface EmailLinksDeps extends Pick<Services, 'emailSignIn'> {
  selfService: SelfServiceDeps;
  /** Where a sign-in link opened in the asking browser leaves its result for the interaction. */
  kv: KeyValueStore;
  views: ViewRenderer;
  /** The issuer's origin: forms must be posted from it. */
  origin: string;
}

/** A token as the link carries it; anything else is simply not a valid link. */
function linkToken(ctx: Context): string {
  const value = ctx.query.token;
  return typeof value === 'string' ? value : '';
}

/** The confirm button's form: the link's token, carried from the GET page. */
const linkForm = z.object({ token: text() });
type WithLinkForm = WithForm<typeof linkForm>;

/** An interaction uid as the verify link may carry it, to offer going back to that sign-in. */
const INTERACTION_UID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The pages behind mailed links (/email/verify, /email/change, /email/sign-in in sign-in-link.ts). GET only shows a button: mail
 * scanners and link previews fetch GET links, and must not use them up. POST uses the link,
 * once, with a CSRF token bound to this browser (no session backs these pages).
 */
export function createEmailLinksRouter(deps: EmailLinksDeps): Router {
  const router = new Router({ prefix: '/email' });
  const { selfService, views } = deps;
  const { publicForm } = selfService;
  const form = createForms({ limit: '4kb', csrf: publicForm.accepts });

  async function render(
    ctx: Context,
    view: string,
    titleKey: string,
    locals: Record<string, unknown> = {},
    status = 200,
  ) {
    const i18n = translatorOf(ctx);
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await views.render(`email-links/${view}`, { title: i18n.t(titleKey), i18n, ...locals });
  }

  const invalidLink = (ctx: Context) => render(ctx, 'invalid', 'email-verification.invalid.title', {}, 400);

  router.use(noStore, requireSameOrigin(deps.origin));

  /** GET of a mailed link: its confirm button, when the link is still good. */
  const confirmPage =
    (isUsable: (token: string) => Promise<boolean>, view: string, titleKey: string) => async (ctx: Context) => {
      const token = linkToken(ctx);
      if (!(await isUsable(token))) return invalidLink(ctx);
      return render(ctx, view, titleKey, { token, csrf: ctx.state.formCsrf as string });
    };

  router.get(
    '/verify',
    publicForm.prepare,
    confirmPage(selfService.emailAddress.isUsableVerification, 'verify', 'email-verification.confirm.title'),
  );

  router.post('/verify', ...form(linkForm), async (ctx: WithLinkForm) => {
    const verified = await selfService.emailAddress.verify(ctx.state.form.token, requestOrigin(ctx));
    if (!verified.ok) return invalidLink(ctx);
    const uid = verified.data.interaction;
    return render(ctx, 'verified', 'email-verification.done.title', {
      email: verified.user.email,
      continueUrl: uid && INTERACTION_UID.test(uid) ? `/interaction/${uid}` : '/account',
    });
  });

  router.get(
    '/change',
    publicForm.prepare,
    confirmPage(selfService.emailAddress.isUsableChange, 'change', 'email-change.confirm.title'),
  );

  router.post('/change', ...form(linkForm), async (ctx: WithLinkForm) => {
    const changed = await selfService.emailAddress.confirmChange(ctx.state.form.token, requestOrigin(ctx));
    if (!changed.ok && changed.reason === 'invalid-link') return invalidLink(ctx);
    if (!changed.ok) return render(ctx, 'change-refused', 'email-change.refused.title', {}, 409);
    await render(ctx, 'changed', 'email-change.done.title', { email: changed.user.email });
    selfService.mail.addressChangedNotice(changed.previousEmail, changed.user.email, translatorOf(ctx));
  });

  addSignInLinkRoutes(router, deps, form);

  return router;
}
