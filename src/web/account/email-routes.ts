import type Router from '@koa/router';
import { z } from 'zod';
import type { FormGuard, WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';
import { translatorOf } from '../../http/localize.js';
import { localizedFormError } from '../kit/form-errors.js';
import type { PortalDeps, WithPortalContext } from './context.js';
import { accountOrigin } from './account-client.js';

/** The new address; the email service checks it. */
const emailForm = z.object({ new_email: text({ trim: true }) });

/**
 * Change of address from /account: needs a recent sign-in; the link goes to the new address,
 * and the account changes only when it is used (src/web/email/email-links.ts), after which
 * the old address gets a notice. An address another account has gets a notice for its owner
 * instead of a link, behind the same answer.
 */
export function addEmailRoutes(router: Router, deps: PortalDeps, sensitive: FormGuard): void {
  const { selfService, views } = deps;

  async function render(
    ctx: WithPortalContext,
    view: string,
    titleKey: string,
    locals: Record<string, unknown>,
    status: number,
  ) {
    const i18n = translatorOf(ctx);
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await views.render(`account/${view}`, {
      title: i18n.t(titleKey),
      i18n,
      portal: ctx.state.portal,
      ...locals,
    });
  }

  router.post('/email', ...sensitive(emailForm), async (ctx: WithPortalContext & WithForm<typeof emailForm>) => {
    await selfService.limits.consume(ctx, 'accountMail', ctx.state.portal.userId);
    const newEmail = ctx.state.form.new_email;
    const i18n = translatorOf(ctx);
    const refuse = (message: string) =>
      render(ctx, 'email-change', 'email-change.title', { newEmail, error: message }, 400);
    let requested;
    try {
      requested = await selfService.emailAddress.requestChange(ctx.state.portal.userId, newEmail, accountOrigin(ctx));
    } catch (error) {
      const refused = localizedFormError(
        error,
        i18n,
        { 'email:email_domain': 'email-change.errors.emailDomain' },
        'email-change.errors.email',
      );
      if (!refused) throw error;
      return refuse(refused.message);
    }
    // Only the user's own address is refused: that tells them nothing they do not know.
    if (!requested.ok) return refuse(i18n.t('email-change.errors.unavailable'));
    // A free address and another account's get the same page (issue 14, finding 6), and the same
    // per-recipient mail limit; only the mail differs: the link, or a notice to the owner.
    await render(ctx, 'email-change-sent', 'email-change.sent.title', { newEmail: requested.newEmail }, 200);
    if (!(await selfService.limits.allows(ctx, 'accountMail', requested.newEmail))) return;
    if (requested.kind === 'link') selfService.mail.confirmNewAddress(requested.newEmail, requested.token, i18n);
    else selfService.mail.changeToTakenAddress(requested.owner.email, i18n);
  });
}
