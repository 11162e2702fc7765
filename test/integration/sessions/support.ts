import type { TestServer } from '../../helpers/server.js';
import type { TestUser } from '../../helpers/factories.js';
import { UserAgent, csrfToken, type Page } from '../../helpers/user-agent.js';
import { buildAuthRequest, redeemCode, type AuthRequest } from '../../helpers/rp.js';
import { actionOf, follow, type TestRp } from '../../helpers/sessions.js';

/** Two browsers a person might use, as their User-Agent headers say. */
export const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
export const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

export const browser = (server: TestServer, userAgent: string) =>
  new UserAgent(server.issuer, { 'user-agent': userAgent });

export interface BrowserSignIn {
  request: AuthRequest;
  tokens: Awaited<ReturnType<typeof redeemCode>>;
  /** The Set-Cookie lines for the provider's session cookie, as the browser received them. */
  sessionCookies: string[];
}

/**
 * Signs `user` in to `rp` in `ua` through the login page, ticking "Keep me signed in" or
 * not (a string: that value posted for the checkbox), and redeems the code; records the session cookies the browser was sent on the way.
 */
export async function signInRemembering(
  ua: UserAgent,
  rp: TestRp,
  user: Pick<TestUser, 'email' | 'password'>,
  remember: boolean | string,
  params: Record<string, string> = {},
): Promise<BrowserSignIn> {
  const request = await buildAuthRequest(rp.config, rp.client.redirectUri, params);
  const sessionCookies: string[] = [];
  const collect = (page: Page) =>
    sessionCookies.push(...page.headers.getSetCookie().filter((c) => /^gh_session=/.test(c)));
  const login = await follow(ua, request.url, new URL(request.url).origin);
  const fields: Record<string, string> = { csrf: csrfToken(login.html), email: user.email, password: user.password };
  if (remember !== false) fields.remember = remember === true ? '1' : remember;
  let page = await ua.post(actionOf(login, '/login'), fields);
  collect(page);
  for (let hops = 0; hops < 10 && page.location && !page.location.startsWith(rp.client.redirectUri); hops++) {
    page = await ua.get(page.location);
    collect(page);
  }
  if (!page.location?.startsWith(rp.client.redirectUri))
    throw new Error(`sign-in did not reach the RP: ${page.status} ${page.html.slice(0, 200)}`);
  return { request, tokens: await redeemCode(rp.config, page.location, request), sessionCookies };
}

/** The sessions listed on the account page: uid, whether it is this browser, and what is shown. */
export function listedSessions(
  page: Page,
): Array<{ uid: string; current: boolean; device: string; ip: string; lastSeen: string }> {
  return [...page.html.matchAll(/<li data-session="([^"]+)"( data-session-current)?>([\s\S]*?)<\/li>/g)].map((m) => {
    const body = m[3] ?? '';
    const field = (name: string) => new RegExp(`data-session-${name}>([^<]*)<`).exec(body)?.[1]?.trim() ?? '';
    return {
      uid: m[1] ?? '',
      current: Boolean(m[2]),
      device: field('device'),
      ip: field('ip'),
      lastSeen: field('last-seen'),
    };
  });
}
