import type { Context } from 'koa';
import { z } from 'zod';
import { underBase } from '../../http/base-path.js';
import type { KeyValueStore } from '../../storage/key-value-store.js';

/**
 * What the sign-in page (web/interaction/) and the mailed link's page (web/email/) share for
 * email sign-in (docs/factors.md, "Email sign-in"): the browser-binding cookie and the hand-over
 * of a link opened in the asking browser to its interaction, whose cookie is scoped to
 * /interaction/<uid> and never reaches /email/sign-in (as web/federation/ hands over).
 */

/** The browser-binding cookie (the value only this browser has; the service keeps its digest). */
const EMAIL_SIGN_IN_COOKIE = 'gh_email_sign_in';
/** No longer than a link or code may live (config codes.*TtlSeconds are at most an hour). */
const COOKIE_MAX_AGE_MS = 60 * 60 * 1000;
const STATE_TTL_SECONDS = 60 * 60;
const HANDOFF_TTL_SECONDS = 600;
/** generateToken's shape (src/codes/secrets.ts): base64url. */
const BINDING = /^[A-Za-z0-9_-]{16,128}$/;

/** The two paths that read the binding: this sign-in's code entry, and the mailed link's page. */
const interactionPath = (ctx: Context, uid: string) => underBase(ctx, `/interaction/${uid}/email-sign-in`);
const linkPath = (ctx: Context) => underBase(ctx, '/email/sign-in');

/**
 * Sets the binding of a request made here: HttpOnly, Secure on an https issuer, SameSite=Lax
 * (opening the mailed link is a cross-site top-level GET, which Lax cookies go with). One
 * cookie per path, as narrow as the two readers allow, so no other page of ours receives it.
 */
export function setEmailBinding(ctx: Context, uid: string, binding: string, secure: boolean): void {
  // overwrite: false, or the second Set-Cookie of the same name would replace the first.
  const options = { httpOnly: true, secure, sameSite: 'lax' as const, signed: false, overwrite: false };
  ctx.cookies.set(EMAIL_SIGN_IN_COOKIE, binding, {
    ...options,
    path: interactionPath(ctx, uid),
    maxAge: COOKIE_MAX_AGE_MS,
  });
  ctx.cookies.set(EMAIL_SIGN_IN_COOKIE, binding, { ...options, path: linkPath(ctx), maxAge: COOKIE_MAX_AGE_MS });
}

/** The binding this browser brought; '' when none (a binding that matches nothing). */
export function emailBinding(ctx: Context): string {
  const value = ctx.cookies.get(EMAIL_SIGN_IN_COOKIE, { signed: false });
  return value && BINDING.test(value) ? value : '';
}

/** Clears the cookie on the path of the page that read it. */
export function clearEmailBinding(ctx: Context, uid?: string): void {
  const path = uid ? interactionPath(ctx, uid) : linkPath(ctx);
  ctx.cookies.set(EMAIL_SIGN_IN_COOKIE, '', { path, maxAge: 0, overwrite: true, signed: false });
}

/** What a sign-in page remembers of its request: to check the code, resend, and show the cooldown. */
const requestSchema = z.object({
  challengeId: z.string(),
  email: z.string(),
  mode: z.enum(['code', 'link']),
  /** Epoch ms when it was sent, and the cooldown then: when "send again" works. */
  sentAt: z.number(),
  resendAfterSeconds: z.number(),
});
export type EmailSignInRequestState = z.infer<typeof requestSchema>;

const handoffSchema = z.object({ userId: z.string() });

const stateKey = (uid: string) => `email-sign-in:request:${uid}`;
const handoffKey = (uid: string) => `email-sign-in:handoff:${uid}`;

const parse = <S extends z.ZodType>(schema: S, raw: string | null): z.output<S> | null => {
  if (!raw) return null;
  const parsed = schema.safeParse(JSON.parse(raw));
  return parsed.success ? parsed.data : null;
};

export function emailSignInStore(kv: KeyValueStore) {
  return {
    putRequest: (uid: string, state: EmailSignInRequestState) =>
      kv.set(stateKey(uid), JSON.stringify(state), STATE_TTL_SECONDS),
    request: async (uid: string) => parse(requestSchema, await kv.get(stateKey(uid))),
    dropRequest: (uid: string) => kv.delete(stateKey(uid)),
    /** The link opened in the asking browser: its interaction's page takes the result (single use). */
    putHandoff: (uid: string, userId: string) =>
      kv.set(handoffKey(uid), JSON.stringify({ userId }), HANDOFF_TTL_SECONDS),
    takeHandoff: async (uid: string) => parse(handoffSchema, await kv.take(handoffKey(uid))),
  };
}
