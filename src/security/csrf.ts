import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { AppError } from '../http/errors.js';

/**
 * CSRF tokens bound to what a form acts on (an interaction uid): HMAC(secret, binding).
 * Stateless, so any replica verifies them; an attacker without the uid (kept in an
 * httpOnly, SameSite cookie's path) cannot compute one.
 */
export interface Csrf {
  token(binding: string): string;
  verify(binding: string, presented: unknown): boolean;
}

export function createCsrf(secret: Buffer): Csrf {
  const token = (binding: string) => createHmac('sha256', secret).update(`csrf:${binding}`).digest('base64url');
  return {
    token,
    verify(binding, presented) {
      if (typeof presented !== 'string') return false;
      const expected = Buffer.from(token(binding));
      const actual = Buffer.from(presented);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
  };
}

/** Refuses a state-changing request whose Origin is not ours (a second CSRF defence). */
export function requireSameOrigin(origin: string) {
  return async function requireSameOriginMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      const presented = ctx.get('origin');
      if (presented && presented !== origin) {
        throw new AppError('forbidden', 403, 'common.foreignForm');
      }
    }
    await next();
  };
}

/**
 * For the JSON endpoints our own script calls (WebAuthn ceremonies): the body must be JSON
 * and the Origin header must be ours. Browsers send Origin on every fetch POST, so a
 * missing one is refused too; a cross-site page cannot send a JSON body without a CORS
 * preflight, which we never answer.
 */
export function requireJsonFromOrigin(origin: string) {
  return async function requireJsonFromOriginMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.get('origin') !== origin) {
      throw new AppError('forbidden', 403, 'common.foreignRequest');
    }
    if (!ctx.is('application/json')) {
      throw new AppError('unsupported_media_type', 415, 'common.jsonRequired');
    }
    await next();
  };
}

/** The CSRF token a script sends: the X-CSRF-Token header, or a `csrf` field of the JSON body. */
export function presentedCsrfToken(ctx: Context): string {
  const header = ctx.get('x-csrf-token');
  if (header) return header;
  const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
  return typeof body.csrf === 'string' ? body.csrf : '';
}

/** The cookie that carries the browser's random form binding on pages with no session. */
const FORM_BINDING_COOKIE = 'gatehouse.form';

/**
 * Under an https issuer the cookie is `__Host-` prefixed (RFC 6265bis §4.1.3.2): browsers then
 * accept it only with Secure, Path=/ and no Domain, so neither a sibling subdomain nor a
 * plain-http page on the same host can plant a binding of its choosing (a cookie-tossing
 * CSRF). Browsers refuse the prefix without Secure, so a plain-http loopback issuer keeps the
 * bare name; a cookie of the other name is not read.
 */
function formBindingCookieName(secure: boolean): string {
  return secure ? `__Host-${FORM_BINDING_COOKIE}` : FORM_BINDING_COOKIE;
}

/**
 * CSRF for public forms that no session or interaction backs (forgot password, a mailed link's
 * confirmation page): a random value in an httpOnly, SameSite=Strict cookie, and a form token
 * that is the HMAC of it. A cross-site page can neither read the cookie nor compute the token.
 * `prepare` (GET) sets the cookie when missing and puts the token in ctx.state.formCsrf; `accepts`
 * (the form kit's CSRF check of a POST, src/web/kit/form.ts) is false for a token that does not
 * match this browser's cookie.
 */
export function createPublicFormCsrf(csrf: Csrf, options: { secure: boolean }) {
  const binding = (value: string) => `public-form:${value}`;
  const name = formBindingCookieName(options.secure);
  // No Domain: the __Host- prefix requires its absence, and the cookie is for this host only.
  const cookieOptions = {
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: options.secure,
    path: '/',
    overwrite: true,
    signed: false,
  };
  return {
    async prepare(ctx: Context, next: Next): Promise<void> {
      let value = ctx.cookies.get(name, { signed: false });
      if (!value || !/^[A-Za-z0-9_-]{22,64}$/.test(value)) {
        value = randomBytes(24).toString('base64url');
        ctx.cookies.set(name, value, cookieOptions);
      }
      ctx.state.formCsrf = csrf.token(binding(value));
      await next();
    },
    accepts(ctx: Context, presented: string): boolean {
      const value = ctx.cookies.get(name, { signed: false });
      return value !== undefined && value !== '' && csrf.verify(binding(value), presented);
    },
  };
}

export type PublicFormCsrf = ReturnType<typeof createPublicFormCsrf>;
