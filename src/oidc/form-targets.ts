import type { Context } from 'koa';

interface ProviderClient {
  redirectUriAllowed(uri: string): boolean;
  postLogoutRedirectUriAllowed(uri: string): boolean;
}

/** What oidc-provider leaves on the request's context once it has answered (ctx.oidc). */
interface ProviderRequest {
  oidc?: { client?: ProviderClient; params?: Record<string, unknown> };
}

/** What the interaction router keeps for a sign-in step (src/web/interaction/context.ts). */
interface InteractionState {
  interaction?: { params?: Record<string, unknown> };
}

/**
 * A page of ours whose own buttons send the browser to a third party after the POST (the
 * upstream identity providers /account links): it lists their URLs here (`formTargetsOf`).
 */
interface PageState {
  formTargets?: readonly string[];
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

/**
 * Where a page's form may end up after its redirects, for CSP form-action
 * (http/security-headers.ts): always a URI the client registered, never one a request merely
 * names, so an error page about a foreign redirect_uri does not allow it.
 * - A sign-in step: its form posts here, and the redirect chain ends at the client's
 *   redirect_uri (the interaction exists only once the provider has checked it).
 * - oidc-provider's form_post page posts to the redirect_uri itself (OAuth 2.0 Form Post
 *   Response Mode §2); its other pages are answered with the same request's redirect_uri.
 * - The RP-initiated logout confirmation posts here and is redirected to the client's
 *   post_logout_redirect_uri (OIDC RP-Initiated Logout 1.0 §3).
 * - A page that starts upstream round trips (/account's "Link") lists the upstreams'
 *   authorization URLs, from connections an admin configured (`ctx.state.formTargets`).
 */
export function formTargets(ctx: Context): string[] {
  const targets: string[] = [...((ctx.state as PageState).formTargets ?? [])];
  const interactionTarget = text((ctx.state as InteractionState).interaction?.params?.redirect_uri);
  if (interactionTarget) targets.push(interactionTarget);
  const { client, params } = (ctx as Context & ProviderRequest).oidc ?? {};
  if (client && params) {
    const redirectUri = text(params.redirect_uri);
    if (redirectUri && client.redirectUriAllowed(redirectUri)) targets.push(redirectUri);
    const postLogout = text(params.post_logout_redirect_uri);
    if (postLogout && client.postLogoutRedirectUriAllowed(postLogout)) targets.push(postLogout);
  }
  return targets;
}
