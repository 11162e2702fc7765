import type { Context } from 'koa';

/**
 * Lets this response's page frame the given origins (CSP Level 3 `frame-src`; the policy's
 * default-src 'none' forbids every frame otherwise). Only for pages that must: the front-channel
 * logout page and its clients' logout URIs.
 */
export function allowFrames(ctx: Context, urls: readonly string[]): void {
  const policy = ctx.response.get('Content-Security-Policy');
  const origins = [...new Set(urls.map((url) => new URL(url).origin))].filter((o) => !/[\s;,']/.test(o));
  if (policy && origins.length > 0) ctx.set('Content-Security-Policy', `${policy}; frame-src ${origins.join(' ')}`);
}
