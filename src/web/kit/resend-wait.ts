import type { Context } from 'koa';
import { formatWait } from '../../i18n/duration.js';
import type { Translator } from '../../i18n/translator.js';

/**
 * A code asked for again too soon (the visible cooldown, or a send limit): 429 with Retry-After
 * (RFC 6585 §4) on the page that asked, whose error line this returns ("Please wait 42 seconds
 * before asking for a new code."). The sign-in's code pages and /account's phone page share it.
 */
export function resendTooSoon(ctx: Context, i18n: Translator, waitSeconds: number): string {
  ctx.status = 429;
  ctx.set('Retry-After', String(waitSeconds));
  return i18n.t('codes.resendTooSoon', { wait: formatWait(waitSeconds, i18n.locale) });
}
