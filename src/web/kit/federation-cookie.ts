import type { Context } from 'koa';
import { issuerBasePath } from '../../config/issuer.js';

/**
 * The browser binding of an upstream round trip (issue 17): federation.begin() returns a random
 * value that only the browser that started the round trip holds, and complete() wants it back
 * from the callback. One cookie for every surface that starts a round trip (the sign-in page,
 * /account's "Link") and the callback route that finishes it, so they agree on its name,
 * scope and flags (docs/decisions.md, "The federation cookie").
 */

/** The cookie's name (signed with the app's cookie keys, like Gatehouse's other cookies). */
export const FEDERATION_COOKIE = 'gh_federation';

/**
 * Where the callback sends the browser after a link started on /account (outcome `linked`),
 * under the issuer's path prefix (`underBase`): the account page names what happened.
 * @public for the federation callback (src/web/federation/)
 */
export const AFTER_LINK_PATH = '/account?done=identity-linked#linked-identities';

/** Only the callbacks (`<issuer>/federation/<id>/callback`) are sent it. */
const cookiePath = (issuer: string) => `${issuerBasePath(issuer)}/federation`;

/**
 * HttpOnly, signed, scoped to the callbacks. On an https issuer SameSite=None and Secure:
 * Apple's form_post callback is a cross-site POST, which a Lax cookie would miss (the value
 * alone lets nobody in: the callback also needs the state that names it). On http (a
 * developer's loopback issuer) browsers refuse None without Secure; Lax there, where the
 * upstreams are on the same site anyway.
 */
function federationCookieOptions(issuer: string, maxAgeMs: number) {
  const secure = issuer.startsWith('https:');
  return {
    signed: true,
    httpOnly: true,
    secure,
    sameSite: secure ? ('none' as const) : ('lax' as const),
    path: cookiePath(issuer),
    maxAge: Math.max(0, maxAgeMs),
    overwrite: true,
  };
}

/** Sets the binding begin() returned, for as long as its round trip lives. */
export function setFederationCookie(
  ctx: Context,
  issuer: string,
  binding: string,
  expires: { at: Date; now: number },
): void {
  ctx.cookies.set(FEDERATION_COOKIE, binding, federationCookieOptions(issuer, expires.at.getTime() - expires.now));
}

/**
 * The binding this browser holds (undefined: none, or its signature does not verify).
 * @public for the federation callback (src/web/federation/)
 */
export function readFederationCookie(ctx: Context): string | undefined {
  return ctx.cookies.get(FEDERATION_COOKIE, { signed: true }) || undefined;
}

/**
 * Forgets the binding once its round trip is finished (or failed).
 * @public for the federation callback (src/web/federation/)
 */
export function clearFederationCookie(ctx: Context, issuer: string): void {
  ctx.cookies.set(FEDERATION_COOKIE, null, federationCookieOptions(issuer, 0));
}
