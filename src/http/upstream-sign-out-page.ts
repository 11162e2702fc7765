import type { Context } from 'koa';
import type { UpstreamSignOutTarget } from '../federation/upstream-sign-out.js';
import type { Translator } from '../i18n/translator.js';
import { allowInlineScript } from './inline-script.js';
import type { ViewRenderer } from './views.js';

/** Follows the page's own link on load; the link stays for a browser without scripts. */
const FOLLOW_LINK = "location.replace(document.getElementById('upstream-sign-out').href);";

/**
 * The page after a sign-out here that sends the browser on to the upstream's sign-out
 * (federation/upstream-sign-out.ts): a page, not a redirect, because the sign-out was a form's
 * POST and CSP form-action would stop its redirects at a third party's origin.
 */
export async function renderUpstreamSignOut(
  views: ViewRenderer,
  ctx: Context,
  i18n: Translator,
  target: UpstreamSignOutTarget,
): Promise<void> {
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = await views.render('upstream-sign-out', {
    title: i18n.t('upstream-sign-out.title'),
    i18n,
    url: target.url.href,
    connectionName: target.connectionName,
    script: allowInlineScript(ctx, FOLLOW_LINK),
  });
}
