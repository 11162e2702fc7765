import { federationRedirectUri } from '../../src/federation/federation.service.js';
import type { TestClient } from './factories.js';
import { buildAuthRequest, discoverRp, redeemCode, type AuthRequest, oidc } from './rp.js';
import type { TestServer } from './server.js';
import { followToCallback } from './upstream-driver.js';
import { UserAgent, csrfToken, formAction, type Page } from './user-agent.js';

/**
 * A browser's federated sign-in, step by step: the RP's request (openid-client), Gatehouse's
 * sign-in page, a "Continue with …" button, the upstream (upstream-driver.ts, with its own
 * cookies), Gatehouse's callback, and on to the RP or to the page where Gatehouse stopped.
 */
export interface FederatedFlow {
  ua: UserAgent;
  rp: oidc.Configuration;
  client: TestClient;
  request: AuthRequest;
}

export async function startFlow(
  server: TestServer,
  options: { client?: TestClient; params?: Record<string, string>; ua?: UserAgent } = {},
): Promise<FederatedFlow & { page: Page }> {
  const client = options.client ?? (await server.buildClient());
  const rp = await discoverRp(server.issuer, client);
  const ua = options.ua ?? new UserAgent(server.issuer);
  const request = await buildAuthRequest(rp, client.redirectUri, options.params);
  const page = await followOwn(ua, await ua.get(request.url), client.redirectUri);
  return { ua, rp, client, request, page };
}

/** Follows redirects within Gatehouse; stops at a page, at the RP's redirect URI, or at a redirect elsewhere. */
export async function followOwn(ua: UserAgent, first: Page, redirectUri: string): Promise<Page> {
  let page = first;
  for (let hop = 0; hop < 15; hop += 1) {
    const next = page.location;
    if (!next || next.startsWith(redirectUri) || new URL(next).origin !== new URL(page.url).origin) return page;
    page = await ua.get(next);
  }
  throw new Error('too many redirects');
}

/** Presses the sign-in page's button for `connectionId`: the redirect to the upstream. */
export async function pressContinueWith(ua: UserAgent, page: Page, connectionId: string): Promise<Page> {
  const action = formAction(page.html, `/federation/start/${connectionId}`);
  if (!action) throw new Error(`no button for ${connectionId} on the page`);
  return ua.post(action, { csrf: csrfToken(page.html) });
}

/** The upstream's step, then Gatehouse's callback (GET, or a form_post's POST), followed within Gatehouse. */
export async function throughUpstream(
  server: TestServer,
  flow: Pick<FederatedFlow, 'ua' | 'client'>,
  upstreamUrl: string,
  connectionId: string,
  options: {
    tamper?: (params: Record<string, string>) => void;
    formPost?: boolean;
    /** The upstream's cookies, kept (its session). */
    upstreamCookies?: Map<string, string>;
  } = {},
): Promise<{ page: Page; params: Record<string, string> }> {
  const callback = federationRedirectUri(server.issuer, connectionId);
  const params = await followToCallback(upstreamUrl, callback, options.upstreamCookies);
  options.tamper?.(params);
  const page = await callbackWith(flow.ua, callback, params, options.formPost ?? false);
  return { page: await followOwn(flow.ua, page, flow.client.redirectUri), params };
}

export function callbackWith(
  ua: UserAgent,
  callback: string,
  params: Record<string, string>,
  formPost: boolean,
): Promise<Page> {
  // A form_post arrives from the upstream's page: its Origin is the upstream's.
  if (formPost) return ua.post(callback, params, { origin: 'null' });
  return ua.get(`${callback}?${new URLSearchParams(params).toString()}`);
}

/** The code at the RP's redirect URI, redeemed by openid-client. */
export async function redeem(flow: FederatedFlow, page: Page) {
  if (!page.location?.startsWith(flow.client.redirectUri))
    throw new Error(`expected the RP's callback, got ${page.status} ${page.location ?? page.html.slice(0, 300)}`);
  return redeemCode(flow.rp, page.location, flow.request);
}
