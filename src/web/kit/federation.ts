import type { Context } from 'koa';
import { z } from 'zod';
import { underBase } from '../../http/base-path.js';
import type { FederationOutcome, FederationService } from '../../federation/federation.service.js';
import type { Connection } from '../../federation/connection.js';
import { upstreamSettings } from '../../federation/presets.js';
import type { KeyValueStore } from '../../storage/key-value-store.js';

/**
 * What the pages that start an upstream sign-in (the sign-in page, /account) and the callback
 * (web/federation/) share: the browser-binding cookie, where a round trip returns to, and the
 * hand-over of its outcome to the interaction (docs/federation.md, "Signing in").
 */

/** The icons shipped in views/public/icons/, served under /assets/icons/: one per preset, and a generic one. */
export const FEDERATION_ICONS = ['google', 'microsoft', 'github', 'gitlab', 'discord', 'apple', 'generic'] as const;

/** Where the person goes back to: the sign-in (interaction) they started from, or /account (linking). */
export type FederationReturn = { kind: 'interaction'; uid: string } | { kind: 'account' };

/** The browser-binding cookie's name (one per connection: each has its callback's path). */
export const FEDERATION_COOKIE = 'gh_fed';
/** An interaction uid, or what /account passes: the shape oidc-provider's uids have. */
const UID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The cookie's path: the connection's callback only, so two connections' round trips do not
 * overwrite each other and no other page of ours receives it.
 */
const callbackPath = (ctx: Context, connectionId: string) =>
  underBase(ctx, `/federation/${encodeURIComponent(connectionId)}/callback`);

/**
 * Sets the browser binding of a round trip begun here (HttpOnly; Secure on an https issuer).
 * SameSite=Lax: the upstream's redirect back is a cross-site top-level GET, which Lax cookies
 * go with. A form_post upstream (Apple) answers with a cross-site POST, which only a
 * SameSite=None cookie goes with, and browsers keep those only when Secure: on an https issuer
 * that connection's cookie is None; on a plain-http (loopback) issuer no upstream on another
 * site can post back anyway, so it stays Lax (docs/decisions.md, "The upstream's callback").
 */
function setFederationBinding(
  ctx: Context,
  input: {
    connection: Pick<Connection, 'id'>;
    binding: string;
    returnTo: FederationReturn;
    formPost: boolean;
    /** As the other cookies decide: the issuer is https. */
    secure: boolean;
  },
): void {
  const { secure } = input;
  const back = input.returnTo.kind === 'interaction' ? `i.${input.returnTo.uid}` : 'a.';
  ctx.cookies.set(FEDERATION_COOKIE, `${back}.${input.binding}`, {
    httpOnly: true,
    secure,
    sameSite: input.formPost && secure ? 'none' : 'lax',
    path: callbackPath(ctx, input.connection.id),
    signed: false,
    overwrite: true,
    // No longer than an interaction may live (config ttl.interaction is at most an hour).
    maxAge: 60 * 60 * 1000,
  });
}

/** The cookie a callback brings, read and cleared; undefined when there is none or it is not ours. */
export function takeFederationBinding(
  ctx: Context,
  connectionId: string,
): { binding: string; returnTo: FederationReturn } | undefined {
  const raw = ctx.cookies.get(FEDERATION_COOKIE, { signed: false });
  ctx.cookies.set(FEDERATION_COOKIE, '', {
    path: callbackPath(ctx, connectionId),
    maxAge: 0,
    overwrite: true,
    signed: false,
  });
  const match = raw ? /^(i|a)\.([A-Za-z0-9_-]{0,64})\.([A-Za-z0-9_-]{16,128})$/.exec(raw) : null;
  if (!match) return undefined;
  const [, kind, uid = '', binding = ''] = match;
  if (kind === 'a') return { binding, returnTo: { kind: 'account' } };
  return UID.test(uid) ? { binding, returnTo: { kind: 'interaction', uid } } : undefined;
}

/** Where a return goes: the interaction's page (under the issuer's path), or /account. */
export function returnPath(ctx: Context, to: FederationReturn): string {
  return to.kind === 'interaction' ? underBase(ctx, `/interaction/${to.uid}`) : underBase(ctx, '/account');
}

/**
 * Starts a round trip and sends the browser to the upstream (303: a form's POST becomes the
 * upstream's GET). FederationError when the connection is not offered there.
 */
export async function redirectToUpstream(
  ctx: Context,
  federation: Pick<FederationService, 'begin'>,
  input: Parameters<FederationService['begin']>[0] & {
    connection: Connection;
    returnTo: FederationReturn;
    secure: boolean;
  },
): Promise<void> {
  const { connection, returnTo, secure, ...begin } = input;
  const begun = await federation.begin(begin);
  setFederationBinding(ctx, {
    connection,
    binding: begun.browserBinding,
    returnTo,
    secure,
    formPost: upstreamOrigin(connection)?.formPost ?? false,
  });
  ctx.status = 303;
  ctx.redirect(begun.url.href);
}

/**
 * The origin a connection's authorization request goes to, without asking the upstream: the
 * admin's (or preset's) authorization endpoint, else the issuer (discovery: every known OpenID
 * provider serves its authorization endpoint on its issuer's origin). The sign-in page adds it
 * to CSP form-action, which Chromium applies to the redirect after a form's POST.
 */
export function upstreamOrigin(connection: Connection): { origin: string; formPost: boolean } | undefined {
  try {
    const settings = upstreamSettings(connection);
    return {
      origin: new URL(settings.authorizationEndpoint ?? settings.issuer).origin,
      formPost: settings.responseMode === 'form_post',
    };
  } catch {
    return undefined;
  }
}

/** An outcome handed from the callback to the interaction it resumes (single use, short-lived). */
const handoffSchema = z.object({
  kind: z.enum(['signed-in', 'created', 'link-required']),
  userId: z.string(),
  connectionId: z.string(),
  amr: z.array(z.string()),
  email: z.string().optional(),
  pending: z.string().optional(),
  /** The sealed upstream sign-in, for upstream sign-out (federation/upstream-sign-out.ts). */
  upstreamSignIn: z.string().optional(),
});
export type FederationHandoff = z.infer<typeof handoffSchema>;

/** The callback leaves the outcome here; the interaction's page (which has the interaction's cookie) takes it. */
const HANDOFF_TTL_SECONDS = 600;
const handoffKey = (uid: string) => `federation:handoff:${uid}`;
const linkKey = (uid: string) => `federation:link:${uid}`;
const hintKey = (uid: string) => `federation:hint-used:${uid}`;

export function federationHandoffs(kv: KeyValueStore) {
  const read = (raw: string | null): FederationHandoff | null => {
    if (!raw) return null;
    const parsed = handoffSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  };
  return {
    async put(outcome: Exclude<FederationOutcome, { kind: 'linked' }>): Promise<void> {
      const handoff: FederationHandoff = {
        kind: outcome.kind,
        userId: outcome.userId,
        connectionId: outcome.connectionId,
        amr: outcome.amr,
        ...(outcome.upstreamSignIn ? { upstreamSignIn: outcome.upstreamSignIn } : {}),
        ...(outcome.kind === 'link-required' ? { email: outcome.email, pending: outcome.pending } : {}),
      };
      await kv.set(handoffKey(outcome.interactionUid), JSON.stringify(handoff), HANDOFF_TTL_SECONDS);
    },
    take: async (uid: string) => read(await kv.take(handoffKey(uid))),
    /** A link-required outcome waits here for the person's proof. */
    putLink: (uid: string, handoff: FederationHandoff) =>
      kv.set(linkKey(uid), JSON.stringify(handoff), HANDOFF_TTL_SECONDS),
    peekLink: async (uid: string) => read(await kv.get(linkKey(uid))),
    dropLink: (uid: string) => kv.delete(linkKey(uid)),
    /** An RP's `upstream=` hint is followed once per interaction: coming back after a failure shows the choice. */
    firstHintUse: (uid: string) => kv.setIfAbsent(hintKey(uid), '1', HANDOFF_TTL_SECONDS),
  };
}

export type FederationHandoffs = ReturnType<typeof federationHandoffs>;
