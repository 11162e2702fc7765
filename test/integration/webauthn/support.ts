import type { TestUser } from '../../helpers/factories.js';
import type { TestServer } from '../../helpers/server.js';
import { redeemCode, type AuthRequest } from '../../helpers/rp.js';
import { follow, openAuthorization, submitLogin, type TestRp } from '../../helpers/sessions.js';
import { csrfToken, type Page, type UserAgent } from '../../helpers/user-agent.js';
import { accountCsrf, openAccountPage } from '../../helpers/account-pages.js';
import {
  SoftwareAuthenticator,
  type CreationOptions,
  type RequestOptions,
  type SoftwareCredential,
} from '../../helpers/software-authenticator.js';

/**
 * The calls views/public/webauthn.js makes, made by a test with a software authenticator:
 * enrolment on /account, and the passkey and security-key steps of a sign-in.
 */

export const ACR = {
  password: 'urn:gatehouse:acr:pwd',
  mfa: 'urn:gatehouse:acr:mfa',
  phishingResistant: 'urn:gatehouse:acr:phr',
} as const;

export const json = <T>(page: Page): T => JSON.parse(page.html) as T;

function uidOf(page: Page): string {
  const uid = /\/interaction\/([\w-]+)\//.exec(page.html)?.[1];
  if (!uid) throw new Error(`no interaction on page ${page.url} (${page.status})`);
  return uid;
}

/** Signs in to /account with the password and registers a key made by `authenticator`. */
export async function enrolKey(
  ua: UserAgent,
  user: TestUser,
  authenticator: SoftwareAuthenticator,
  kind: 'passkey' | 'security_key' = 'passkey',
  label = '',
): Promise<SoftwareCredential> {
  const page = await openAccountPage(ua, user.email, user.password);
  const headers = { 'x-csrf-token': accountCsrf(page) };
  const options = await ua.postJson('/account/webauthn/registration/options', { kind }, headers);
  if (options.status !== 200) throw new Error(`registration options: ${options.status} ${options.html}`);
  const { response, credential } = authenticator.create(json<CreationOptions>(options));
  const done = await ua.postJson('/account/webauthn/registration/verify', { response, label }, headers);
  if (done.status !== 200) throw new Error(`registration: ${done.status} ${done.html}`);
  return credential;
}

export interface LoginPage {
  request: AuthRequest;
  page: Page;
  uid: string;
  csrf: string;
}

/** Starts an authorization in a browser without a session: the login page. */
export async function openLogin(
  ua: UserAgent,
  rp: TestRp,
  server: TestServer,
  params: Record<string, string> = {},
): Promise<LoginPage> {
  const { request, page } = await openAuthorization(ua, rp, server.issuer, params);
  return { request, page, uid: uidOf(page), csrf: csrfToken(page.html) };
}

/** Asks for passkey options on a login page. */
export async function passkeyOptions(ua: UserAgent, login: Pick<LoginPage, 'uid' | 'csrf'>): Promise<RequestOptions> {
  const options = await ua.postJson(
    `/interaction/${login.uid}/webauthn/passkey/options`,
    {},
    { 'x-csrf-token': login.csrf },
  );
  if (options.status !== 200) throw new Error(`passkey options: ${options.status} ${options.html}`);
  return json<RequestOptions>(options);
}

export function verifyPasskey(ua: UserAgent, login: Pick<LoginPage, 'uid' | 'csrf'>, response: unknown): Promise<Page> {
  return ua.postJson(`/interaction/${login.uid}/webauthn/passkey/verify`, { response }, { 'x-csrf-token': login.csrf });
}

/** Follows the { redirectTo } of a verified ceremony to the RP and redeems the code. */
export async function finishAtRp(ua: UserAgent, server: TestServer, rp: TestRp, request: AuthRequest, verified: Page) {
  if (verified.status !== 200) throw new Error(`verify: ${verified.status} ${verified.html}`);
  const end = await follow(ua, json<{ redirectTo: string }>(verified).redirectTo, server.issuer);
  if (!end.location?.startsWith(rp.client.redirectUri))
    throw new Error(`did not reach the RP: ${end.status} ${end.url}`);
  const tokens = await redeemCode(rp.config, end.location, request);
  return tokens.claims() ?? {};
}

/** Password sign-in that stops at the second step (the mfa page). */
export async function openSecondStep(
  ua: UserAgent,
  rp: TestRp,
  server: TestServer,
  user: TestUser,
): Promise<LoginPage> {
  const login = await openLogin(ua, rp, server);
  const posted = await submitLogin(ua, login.page, user.email, user.password);
  const page = posted.location ? await follow(ua, posted.location, server.issuer) : posted;
  if (!page.html.includes('Confirm it is you'))
    throw new Error(`expected the second step, got ${page.status} ${page.url}`);
  return { request: login.request, page, uid: uidOf(page), csrf: csrfToken(page.html) };
}

export async function keyOptions(ua: UserAgent, step: Pick<LoginPage, 'uid' | 'csrf'>): Promise<RequestOptions> {
  const options = await ua.postJson(`/interaction/${step.uid}/webauthn/key/options`, {}, { 'x-csrf-token': step.csrf });
  if (options.status !== 200) throw new Error(`key options: ${options.status} ${options.html}`);
  return json<RequestOptions>(options);
}

export function verifyKey(ua: UserAgent, step: Pick<LoginPage, 'uid' | 'csrf'>, response: unknown): Promise<Page> {
  return ua.postJson(`/interaction/${step.uid}/webauthn/key/verify`, { response }, { 'x-csrf-token': step.csrf });
}

export { SoftwareAuthenticator };
