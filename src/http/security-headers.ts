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

export interface SecurityHeaderOptions {
  hsts: boolean;
  /** Other origins pages may show images from (the configured logo's). */
  imageOrigins?: readonly string[];
}

/** The headers every response carries, computed once. */
export function securityHeaderValues(options: SecurityHeaderOptions): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(options.imageOrigins ?? []),
    'X-Content-Type-Options': 'nosniff',
    // same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on our own
    // form POSTs, which the CSRF origin check must then refuse.
    'Referrer-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    ...(options.hsts ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

export function securityHeaders(options: SecurityHeaderOptions) {
  const headers = securityHeaderValues(options);
  return async function securityHeadersMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.set(headers);
    await next();
  };
}

/** Pages and JSON that carry user state are never cached. */
export async function noStore(ctx: Context, next: Next): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  await next();
}
