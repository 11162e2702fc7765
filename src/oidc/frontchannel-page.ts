import type { Context } from 'koa';
import type { ViewRenderer } from '../http/views.js';
import type { Translator } from '../i18n/translator.js';
import { allowFrames } from '../http/frame-sources.js';
import { allowInlineScript } from '../http/inline-script.js';
import type { FrontchannelLogoutDeps } from './frontchannel-logout.js';

/**
 * Waits for every logout frame to load (or at most three seconds: a client that does not answer
 * must not keep the user on the page), then goes on. The same bytes on every page: its hash is
 * allowed by the CSP (http/inline-script.ts).
 */
const CONTINUE_AFTER_FRAMES = [
  "var link = document.getElementById('fc-continue');",
  "var frames = document.querySelectorAll('iframe[data-logout-frame]');",
  'var left = frames.length; var done = false;',
  'function go() { if (!done) { done = true; window.location.replace(link.href); } }',
  'frames.forEach(function (f) { f.addEventListener("load", function () { if (--left === 0) go(); }); });',
  'setTimeout(go, 3000);',
].join('\n');

/** The front-channel logout page (views/frontchannel-logout.ejs), in the request's language. */
export function frontchannelPage(views: ViewRenderer, english: Translator): FrontchannelLogoutDeps['render'] {
  return async (ctx: Context, frames, continueTo) => {
    const i18n = (ctx.state as { i18n?: Translator }).i18n ?? english;
    ctx.remove('Location');
    ctx.status = 200;
    ctx.type = 'html';
    allowFrames(
      ctx,
      frames.map((frame) => frame.src),
    );
    ctx.body = await views.render('frontchannel-logout', {
      title: i18n.t('frontchannel.title'),
      i18n,
      frames,
      continueTo,
      script: allowInlineScript(ctx, CONTINUE_AFTER_FRAMES),
    });
  };
}
