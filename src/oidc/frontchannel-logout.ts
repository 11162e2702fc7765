import type { Context, Middleware } from 'koa';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';

/** One iframe of the logout page: the client's frontchannel_logout_uri with iss and sid when it asked. */
interface LogoutFrame {
  clientName: string;
  src: string;
}

export interface FrontchannelLogoutDeps {
  enabled: boolean;
  /** The logout confirmation the provider's form posts to (ROUTES.end_session + /confirm). */
  confirmPath: string;
  provider: () => Provider;
  /** Renders the page that loads the frames, then continues to `continueTo`. */
  render: (ctx: Context, frames: LogoutFrame[], continueTo: string) => Promise<void>;
}

type SessionSnapshot = Awaited<ReturnType<Provider['Session']['get']>>;

/**
 * OIDC Front-Channel Logout 1.0 §3: when a session ends at the logout endpoint, the page the
 * browser gets renders an iframe for each client of the session that registered a
 * frontchannel_logout_uri, with `iss` and `sid` (§2) for the clients that require them, and
 * then goes where the provider was sending it (the post_logout_redirect_uri or "signed out").
 * oidc-provider 9 has no front-channel logout, so this wraps its confirmation: the session is
 * read before the provider ends it (afterwards its sids are gone), and the page replaces the
 * provider's redirect only when the provider ended that very session (a 303 on the same jti).
 * Which clients: every client of the session when the user signed out of the OP (logout=yes),
 * else only the client that asked (the provider then removes only its authorization).
 */
export function frontchannelLogout(deps: FrontchannelLogoutDeps): Middleware {
  return async function deliverFrontchannelLogout(ctx, next) {
    if (!deps.enabled || ctx.method !== 'POST' || ctx.path !== deps.confirmPath) return next();
    const provider = deps.provider();
    let before: SessionSnapshot | undefined;
    try {
      before = await provider.Session.get(ctx as unknown as KoaContextWithOIDC);
    } catch {
      before = undefined;
    }
    const authorizations = { ...(before?.authorizations ?? {}) };
    const askingClient = (before?.state as { clientId?: unknown } | undefined)?.clientId;
    await next();
    const { oidc } = ctx as unknown as Partial<KoaContextWithOIDC>;
    if (!before?.accountId || ctx.status !== 303 || oidc?.session?.jti !== before.jti) return;
    const all = Boolean(oidc.params?.logout);
    const clientIds = all ? Object.keys(authorizations) : typeof askingClient === 'string' ? [askingClient] : [];
    const frames: LogoutFrame[] = [];
    for (const clientId of clientIds) {
      const client = await provider.Client.find(clientId);
      const metadata = client?.metadata() as Record<string, unknown> | undefined;
      const uri = metadata?.frontchannel_logout_uri;
      if (!client || typeof uri !== 'string') continue;
      const src = new URL(uri);
      const sid = authorizations[clientId]?.sid;
      if (metadata?.frontchannel_logout_session_required === true && typeof sid === 'string') {
        src.searchParams.set('iss', provider.issuer);
        src.searchParams.set('sid', sid);
      }
      frames.push({ clientName: client.clientName ?? clientId, src: src.href });
    }
    const continueTo = ctx.response.get('Location');
    if (frames.length === 0 || !continueTo) return;
    await deps.render(ctx, frames, continueTo);
  };
}
