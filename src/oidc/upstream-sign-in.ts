import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { UpstreamSignOut, UpstreamSignOutTarget } from '../federation/upstream-sign-out.js';
import { ROUTES } from './routes.js';

/**
 * The key of an interaction's result that carries a sealed upstream sign-in
 * (federation/upstream-sign-out.ts) from the federated sign-in step to the session it makes.
 */
export const UPSTREAM_SIGN_IN_RESULT = 'gatehouseUpstreamSignIn';

/** What we read of the session the provider loaded for this request. */
interface LoadedSession {
  uid?: string;
  accountId?: string;
  exp?: number;
  destroyed?: boolean;
  state?: { postLogoutRedirectUri?: unknown };
}

interface ProviderRequest {
  oidc?: {
    route?: string;
    session?: LoadedSession;
    result?: Record<string, unknown> & { login?: { accountId?: unknown } };
    urlFor(name: string, params?: Record<string, string>): string;
  };
}

/** Renders the page that sends the browser on to the upstream's sign-out (provider-pages.ts). */
export type UpstreamSignOutPage = (ctx: Parameters<Middleware>[0], target: UpstreamSignOutTarget) => Promise<void>;

/**
 * Upstream sign-out around oidc-provider (a post-middleware, `provider.use`):
 * - at the authorization's resume, when the interaction's result carries a sealed upstream
 *   sign-in and the session is now that login's account, it is remembered with the session's
 *   uid until the session's end;
 * - at end_session's confirmation, when the session was destroyed ("yes, sign me out"), the
 *   response, a 303 to the RP's post_logout_redirect_uri or to the "signed out" page, becomes a
 *   page that sends the browser on to the upstream's end_session_endpoint, whose return
 *   continues to that same place. Not when the provider signs a session out to switch accounts
 *   in the middle of a sign-in (its redirect goes back to the authorization's resume).
 * The page is a 200 rather than a redirect: CSP form-action would block the confirmation form's
 * redirect chain from reaching a third party (Chromium checks redirects after a form POST).
 */
export function upstreamSignInHandling(deps: {
  upstreamSignOut: Pick<UpstreamSignOut, 'remember' | 'signOutUrl' | 'forget'>;
  sessionSeconds: number;
  page: UpstreamSignOutPage;
  log: Logger;
}): Middleware {
  return async function upstreamSignIn(ctx, next) {
    await next();
    const oidc = (ctx as ProviderRequest).oidc;
    const session = oidc?.session;
    if (!oidc || !session?.uid) return;
    if (oidc.route === 'resume') {
      const sealed = oidc.result?.[UPSTREAM_SIGN_IN_RESULT];
      const accountId = oidc.result?.login?.accountId;
      if (typeof sealed !== 'string' || typeof accountId !== 'string' || session.accountId !== accountId) return;
      const left = session.exp ? session.exp - Math.floor(Date.now() / 1000) : deps.sessionSeconds;
      try {
        await deps.upstreamSignOut.remember({
          sessionUid: session.uid,
          accountId,
          sealed,
          expiresInSeconds: Math.max(1, left),
        });
      } catch (err) {
        // The sign-in itself succeeded; only the upstream's sign-out will not follow.
        deps.log.warn({ err }, 'remembering an upstream sign-in failed');
      }
      return;
    }
    if (oidc.route !== 'end_session_confirm' || !session.destroyed || ctx.status !== 303) return;
    const continueTo = ctx.response.get('Location');
    if (!continueTo) return;
    if (isResume(continueTo, oidc.urlFor('authorization'))) {
      // The ended session's upstream token is not kept past it.
      await deps.upstreamSignOut.forget(session.uid).catch((err: unknown) => {
        deps.log.warn({ err }, 'forgetting an upstream sign-in failed');
      });
      return;
    }
    const target = await deps.upstreamSignOut.signOutUrl(session.uid, continueTo).catch((err: unknown) => {
      deps.log.warn({ err }, 'an upstream sign-out could not be prepared');
      return null;
    });
    if (!target) return;
    ctx.remove('Location');
    ctx.status = 200;
    await deps.page(ctx, target);
  };
}

/** The provider's redirect back to an authorization's resume (`/auth/<uid>`), after signing out to switch accounts. */
function isResume(location: string, authorization: string): boolean {
  try {
    const to = new URL(location);
    const auth = new URL(authorization);
    return to.origin === auth.origin && to.pathname.startsWith(`${auth.pathname}/`);
  } catch {
    return false;
  }
}

/** The provider's own "signed out" page, where an upstream's return goes when nothing else waits. */
export const SIGNED_OUT_PATH = `${ROUTES.end_session}/success`;
