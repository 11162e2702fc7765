import type { Context, Next } from 'koa';

const FORM_ACTION = "form-action 'self'";

/**
 * Headers for every response, set before the handlers run so that oidc-provider can add
 * its form_post script hash to script-src (lib/helpers/script_src_sha.js).
 * form-action (CSP Level 3 §6.4.1): our forms post to our own origin only, so an injected
 * form cannot send what a user types elsewhere. Chromium applies form-action to the
 * redirects that follow a form POST as well, and a sign-in ends with one to the relying
 * party: pages of a sign-in or logout add that one target (see `formTargets`).
 */
function contentSecurityPolicy(imageOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    [IMAGE_SOURCES, ...imageOrigins].join(' '),
    "connect-src 'self'",
    FORM_ACTION,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * A URI as a CSP source expression (CSP Level 3 §2.3.1): its origin for http(s), its scheme
 * for a native app's private-use scheme (RFC 8252 §7.1, `com.example.app:`), which has no
 * origin. Anything else: undefined.
 */
function formTargetSource(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol === 'https:' || url.protocol === 'http:') return url.origin;
  return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) ? url.protocol : undefined;
}

/** The policy with `sources` added to its form-action directive. */
function withFormTargets(policy: string, sources: readonly string[]): string {
  const extra = [...new Set(sources)].filter((source) => !/[\s;,']/.test(source));
  return extra.length > 0 ? policy.replace(FORM_ACTION, [FORM_ACTION, ...extra].join(' ')) : policy;
}

const IMAGE_SOURCES = "img-src 'self' data:";
const PAGE_IMAGES = Symbol('page image origins');

/**
 * A page that shows an image from another origin names that origin here, and only that
 * response's img-src allows it: the consent page's client logo, from the origin the user is
 * sent back to (docs/decisions.md, "The consent page shows a client's logo only from its
 * redirect origin"). Only https origins are taken.
 */
export function allowPageImages(ctx: Context, origins: readonly string[]): void {
  (ctx.state as Record<symbol, unknown>)[PAGE_IMAGES] = origins.filter((o) => /^https:\/\/[^\s;,'/]+$/.test(o));
}

function pageImagesOf(ctx: Context): readonly string[] {
  const origins = (ctx.state as Record<symbol, unknown>)[PAGE_IMAGES];
  return Array.isArray(origins) ? (origins as string[]) : [];
}

export interface SecurityHeaderOptions {
  hsts: boolean;
  /** Other origins pages may show images from (the configured logo's). */
  imageOrigins?: readonly string[];
  /**
   * The validated URIs a page's form may end up at after its redirects (a relying party's
   * redirect_uri during its sign-in), read once the response is made.
   */
  formTargets?: (ctx: Context) => readonly string[];
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
    const targets = options.formTargets?.(ctx) ?? [];
    const images = pageImagesOf(ctx);
    let policy = ctx.response.get('Content-Security-Policy');
    // A response already written (a redirect straight to res) keeps its headers; it has no form.
    if ((targets.length === 0 && images.length === 0) || !policy || ctx.headerSent) return;
    if (targets.length > 0)
      policy = withFormTargets(
        policy,
        targets.flatMap((uri) => formTargetSource(uri) ?? []),
      );
    if (images.length > 0) policy = policy.replace(IMAGE_SOURCES, [IMAGE_SOURCES, ...new Set(images)].join(' '));
    ctx.set('Content-Security-Policy', policy);
  };
}

/** Pages and JSON that carry user state are never cached. */
export async function noStore(ctx: Context, next: Next): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  await next();
}
