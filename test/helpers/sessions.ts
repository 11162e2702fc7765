import type { NewUserInput } from '../../src/admin/users.service.js';
import { TEST_ACTOR } from './factories.js';
import type { ClientInput } from '../../src/clients/client-registry.js';
import type { TestClient, TestUser } from './factories.js';
import type { TestServer } from './server.js';
import { buildAuthRequest, discoverRp, oidc, redeemCode, type AuthRequest } from './rp.js';
import { authorizeIn, type PageAnswers } from './tokens.js';
import { UserAgent, csrfToken, formAction, type FlowTrace, type Page } from './user-agent.js';

/**
 * Helpers for the interaction tests: a relying party per client, a signed-in browser, and
 * small readers for the pages Gatehouse renders.
 */

export { BOOT_TIMEOUT } from './server.js';

export interface TestRp {
  client: TestClient;
  config: oidc.Configuration;
}

export async function buildRp(server: TestServer, overrides: Partial<ClientInput> = {}): Promise<TestRp> {
  const client = await server.buildClient(overrides);
  return { client, config: await discoverRp(server.issuer, client) };
}

/** User administration by email, through the admin services (disabling revokes every session and token). */
export function userAdminFor(server: TestServer) {
  const { admin, storage } = server.gatehouse;
  const findByEmail = async (email: string) => {
    const user = await storage.storage.users.findByEmail(email);
    if (!user) throw new Error(`no user ${email}`);
    return user;
  };
  return {
    create: (input: NewUserInput) => admin.users.create(input, TEST_ACTOR),
    setDisabled: async (email: string, disabled: boolean) =>
      admin.users.setDisabled((await findByEmail(email)).id, disabled, TEST_ACTOR),
    findByEmail,
  };
}

export interface SignedIn {
  request: AuthRequest;
  trace: FlowTrace;
  tokens: Awaited<ReturnType<typeof redeemCode>>;
}

/** Runs a whole authorization in `ua` and redeems the code (tokens.ts authorizeIn, with the browser and RP a test keeps). */
export async function signIn(
  ua: UserAgent,
  rp: TestRp,
  user: Pick<TestUser, 'email' | 'password'>,
  params: Record<string, string> = {},
  options: PageAnswers = {},
): Promise<SignedIn> {
  const { request, trace } = await authorizeIn(ua, rp, user, params, options);
  const tokens = await redeemCode(rp.config, trace.callbackUrl, request);
  return { request, trace, tokens };
}

/**
 * Follows redirects that stay on the OP until a page is shown, or until the OP sends the
 * browser elsewhere (then the returned page carries that `location`).
 */
export async function follow(ua: UserAgent, url: string, origin: string): Promise<Page> {
  let page = await ua.get(url);
  for (let hops = 0; hops < 10; hops++) {
    if (page.location?.startsWith(origin)) {
      page = await ua.get(page.location);
      continue;
    }
    const auto = autoSubmitForm(page);
    if (!auto?.action.startsWith(origin)) break;
    page = await ua.post(auto.action, auto.fields);
  }
  return page;
}

/**
 * oidc-provider's self-submitting form (lib/response_modes/form_post.js), which a browser
 * posts on load; it appears e.g. when another account signs in on a browser with a session.
 */
export function autoSubmitForm(page: Page): { action: string; fields: Record<string, string> } | undefined {
  if (!page.html.includes('document.forms[0].submit()')) return undefined;
  const action = /<form method="post" action="([^"]+)"/.exec(page.html)?.[1];
  if (!action) return undefined;
  const fields: Record<string, string> = {};
  for (const m of page.html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)) {
    if (m[1] !== undefined && m[2] !== undefined) fields[m[1]] = textOf(m[2]);
  }
  return { action: new URL(textOf(action), page.url).toString(), fields };
}

/** Starts an authorization and returns the first page shown (or the redirect to the RP). */
export async function openAuthorization(
  ua: UserAgent,
  rp: TestRp,
  origin: string,
  params: Record<string, string> = {},
): Promise<{ request: AuthRequest; page: Page }> {
  const request = await buildAuthRequest(rp.config, rp.client.redirectUri, params);
  return { request, page: await follow(ua, request.url, origin) };
}

export type PageKind = 'login' | 'consent' | 'select_account' | 'other';

export function pageKind(page: Page): PageKind {
  if (formAction(page.html, '/select-account')) return 'select_account';
  if (formAction(page.html, '/login')) return 'login';
  if (formAction(page.html, '/consent')) return 'consent';
  return 'other';
}

/** Absolute URL of the form whose action ends with `suffix` on `page`. */
export function actionOf(page: Page, suffix: string): string {
  const action = formAction(page.html, suffix);
  if (!action) throw new Error(`no form posting to *${suffix} on ${page.url} (${page.status})`);
  return new URL(action, page.url).toString();
}

/** Posts the login form of `page`. */
export function submitLogin(
  ua: UserAgent,
  page: Page,
  email: string,
  password: string,
  headers?: Record<string, string>,
): Promise<Page> {
  return ua.post(actionOf(page, '/login'), { csrf: csrfToken(page.html), email, password }, headers);
}

/** The visible text of a page, tags removed and entities of EJS's escaper decoded. */
export function textOf(html: string): string {
  return html
    .replace(/<\/?(?:strong|em|b|i|code|span|a)\b[^>]*>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#34;|&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The value attribute of the input named `name`, decoded as the browser would. */
export function inputValue(html: string, name: string): string | undefined {
  const tag = new RegExp(`<input[^>]*name="${name}"[^>]*>`, 's').exec(html)?.[0];
  const value = tag ? /value="([^"]*)"/.exec(tag)?.[1] : undefined;
  return value === undefined ? undefined : textOf(value);
}

/** The text in the page's first shown role="alert" element (the error line of a form or error page; a hidden one waits for a script). */
export function alertText(html: string): string | undefined {
  const match = /<p(?![^>]*\shidden[\s>])[^>]*role="alert"[^>]*>([\s\S]*?)<\/p>/.exec(html);
  return match?.[1] === undefined ? undefined : textOf(match[1]);
}

/** The error code our error page shows. */
export function errorCode(html: string): string | undefined {
  return /Error code: <code>([^<]*)<\/code>/.exec(html)?.[1];
}

/** Query parameters of a redirect, as an object. */
export function paramsOf(location: string | null): Record<string, string> {
  if (!location) throw new Error('expected a redirect');
  const url = new URL(location);
  const params = new URLSearchParams(url.search || url.hash.slice(1));
  return Object.fromEntries(params);
}

/** The part of a URL before its query. */
export function withoutQuery(location: string | null): string {
  if (!location) throw new Error('expected a redirect');
  const url = new URL(location);
  return `${url.origin}${url.pathname}`;
}

export { UserAgent };

/** oidc-provider's logout form on our confirmation page: where it posts and its xsrf value. */
export function logoutForm(page: Page): { action: string; xsrf: string } {
  const form =
    /<form id="op\.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"\/><\/form>/.exec(
      page.html,
    );
  if (!form?.[1] || !form[2]) throw new Error(`no logout form on ${page.url} (${page.status})`);
  return { action: new URL(form[1], page.url).toString(), xsrf: form[2] };
}

/** RP-initiated logout in `ua` with an id_token_hint, confirmed ("Yes, sign me out"): the confirmation's answer. */
export async function logOutAtRp(ua: UserAgent, rp: oidc.Configuration, idToken: string | undefined): Promise<Page> {
  const form = logoutForm(await ua.get(oidc.buildEndSessionUrl(rp, { id_token_hint: idToken ?? '' }).toString()));
  return ua.post(form.action, { xsrf: form.xsrf, logout: 'yes' });
}
