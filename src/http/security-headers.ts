import type { Context, Next } from 'koa';

/**
 * Headers for every response, set before the handlers run so that oidc-provider can add
 * its form_post script hash to script-src (lib/helpers/script_src_sha.js).
 * No form-action directive: Chromium applies it to the redirect chain that follows a
 * form POST, which would block the final redirect to the relying party.
 */
function contentSecurityPolicy(imageOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    ["img-src 'self' data:", ...imageOrigins].join(' '),
    "connect-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** `imageOrigins`: other origins pages may show images from (the configured logo's). */
export function securityHeaders(options: { hsts: boolean; imageOrigins?: readonly string[] }) {
  const csp = contentSecurityPolicy(options.imageOrigins ?? []);
  return async function securityHeadersMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Content-Type-Options', 'nosniff');
    // same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on our own
    // form POSTs, which the CSRF origin check must then refuse.
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    if (options.hsts) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}

/** Pages and JSON that carry user state are never cached. */
export async function noStore(ctx: Context, next: Next): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  await next();
}
