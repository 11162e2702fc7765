import { randomBytes } from 'node:crypto';
import { createTotpService, type TotpService } from '../../../src/accounts/totp.js';
import { createSecretBox } from '../../../src/security/secret-box.js';
import type { AuditEventRow } from '../../../src/storage/entities/audit-event.entity.js';
import { uniqueEmail, type TestUser } from '../../helpers/factories.js';
import { newTotpSecret, totpCode } from '../../helpers/totp-codes.js';
import type { TestServer } from '../../helpers/server.js';
import { redeemCode, type AuthRequest } from '../../helpers/rp.js';
import {
  actionOf,
  follow,
  openAuthorization,
  pageKind,
  submitLogin,
  textOf,
  userAdminFor,
  type PageKind,
  type TestRp,
} from '../../helpers/sessions.js';
import { csrfToken, formAction, type Page, type UserAgent } from '../../helpers/user-agent.js';

/**
 * Helpers for the second-step tests: TOTP codes computed the way an authenticator app
 * computes them, readers for the mfa pages, and a flow that stops at the second step so a
 * test can answer it.
 */

export const ACR = {
  password: 'urn:gatehouse:acr:pwd',
  mfa: 'urn:gatehouse:acr:mfa',
  phishingResistant: 'urn:gatehouse:acr:phr',
} as const;
export const MFA_AMR = ['pwd', 'otp', 'mfa'];

export { newTotpSecret, totpCode, wrongTotpCode } from '../../helpers/totp-codes.js';

export interface TotpUser extends TestUser {
  secret: string;
}

/** A user whose authenticator app was imported with them (what `users create --totp-secret` does). */
export async function buildTotpUser(server: TestServer, secret = newTotpSecret()): Promise<TotpUser> {
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const user = await userAdminFor(server).create({
    email: uniqueEmail('totp'),
    password,
    name: 'Totp User',
    totpSecret: secret,
  });
  return { ...user, password, secret };
}

/** The server's own TOTP service, for enrolling a user outside a sign-in (as /account will). */
export function totpServiceFor(server: TestServer): TotpService {
  const { gatehouse } = server;
  return createTotpService({
    credentials: gatehouse.storage.storage.credentials,
    box: createSecretBox(gatehouse.keyEncryption.key),
    issuer: gatehouse.config.mfa.totpIssuer,
  });
}

export type StepKind = PageKind | 'mfa' | 'mfa_enrol' | 'recovery_codes';

/** Which sign-in step a page shows, including the second-step pages. */
export function stepKind(page: Page): StepKind {
  if (formAction(page.html, '/mfa/enrol-totp')) return 'mfa_enrol';
  if (formAction(page.html, '/mfa/continue')) return 'recovery_codes';
  if (formAction(page.html, '/mfa/code')) return 'mfa';
  return pageKind(page);
}

/** The code methods the mfa page offers, from its hidden `method` fields. */
export function offeredMethods(page: Page): string[] {
  return [...page.html.matchAll(/<input type="hidden" name="method" value="([^"]+)">/g)].map((m) => m[1] ?? '');
}

export function totpSecretOn(page: Page): string {
  const secret = /<code[^>]*data-totp-secret[^>]*>([^<]+)<\/code>/.exec(page.html)?.[1];
  if (!secret) throw new Error(`no TOTP secret on the page (${page.status})`);
  return secret.trim();
}

export function recoveryCodesOn(page: Page): string[] {
  return [...page.html.matchAll(/<code data-recovery-code>([^<]+)<\/code>/g)].map((m) => (m[1] ?? '').trim());
}

export function submitCode(ua: UserAgent, page: Page, method: 'totp' | 'recovery_code', code: string): Promise<Page> {
  return ua.post(actionOf(page, '/mfa/code'), { csrf: csrfToken(page.html), method, code });
}

export function submitEnrolment(ua: UserAgent, page: Page, code: string): Promise<Page> {
  return ua.post(actionOf(page, '/mfa/enrol-totp'), { csrf: csrfToken(page.html), code });
}

export function submitContinue(ua: UserAgent, page: Page): Promise<Page> {
  return ua.post(actionOf(page, '/mfa/continue'), { csrf: csrfToken(page.html) });
}

export interface FirstStep {
  request: AuthRequest;
  /** What came after the password: a second-step page, or the redirect towards the RP. */
  page: Page;
  /** The steps shown, in order, before `page`. */
  steps: StepKind[];
}

/**
 * Starts an authorization in `ua`; answers the login page with the password if one is
 * shown (a browser with a session may skip it) and returns the page that follows.
 */
export async function passwordStep(
  ua: UserAgent,
  server: TestServer,
  rp: TestRp,
  user: Pick<TestUser, 'email' | 'password'>,
  params: Record<string, string> = {},
): Promise<FirstStep> {
  const { request, page } = await openAuthorization(ua, rp, server.issuer, params);
  if (stepKind(page) !== 'login') return { request, page, steps: [] };
  const done = await submitLogin(ua, page, user.email, user.password);
  if (done.status !== 303 || !done.location)
    throw new Error(`password refused with ${done.status}: ${textOf(done.html).slice(0, 200)}`);
  return { request, page: await follow(ua, done.location, server.issuer), steps: ['login'] };
}

export type Tokens = Awaited<ReturnType<typeof redeemCode>>;

/**
 * After the last step answered with a redirect: follows it to the RP's redirect URI (the
 * resume and any auto-approved consent on the way) and redeems the code with openid-client.
 */
export async function finishAtRp(
  ua: UserAgent,
  server: TestServer,
  rp: TestRp,
  answer: Page,
  request: AuthRequest,
): Promise<Tokens> {
  const redirectUri = rp.client.redirectUri;
  let page = answer;
  if (page.location && !page.location.startsWith(redirectUri)) page = await follow(ua, page.location, server.issuer);
  if (!page.location?.startsWith(redirectUri)) {
    throw new Error(`expected a redirect to the RP, got ${page.status}: ${textOf(page.html).slice(0, 300)}`);
  }
  return redeemCode(rp.config, page.location, request);
}

/** A whole sign-in of a TOTP user: password, then the code of `stepOffset`; returns the tokens. */
export async function signInWithTotp(
  ua: UserAgent,
  server: TestServer,
  rp: TestRp,
  user: TotpUser,
  stepOffset = 0,
  params: Record<string, string> = {},
): Promise<Tokens> {
  const first = await passwordStep(ua, server, rp, user, params);
  if (stepKind(first.page) !== 'mfa')
    throw new Error(`expected the mfa step, got ${stepKind(first.page)} (${first.page.status})`);
  const answer = await submitCode(ua, first.page, 'totp', await totpCode(user.secret, stepOffset));
  return finishAtRp(ua, server, rp, answer, first.request);
}

/** The ID token's authentication claims. */
export function authenticationOf(tokens: Tokens): { amr: unknown; acr: unknown } {
  const claims = tokens.claims();
  if (!claims) throw new Error('no ID token');
  return { amr: claims.amr, acr: claims.acr };
}

/** Audit events about one account, newest first. */
export function auditOf(server: TestServer, userId: string): Promise<AuditEventRow[]> {
  return server.gatehouse.storage.storage.audit.forSubject(userId);
}

export async function auditActions(server: TestServer, userId: string): Promise<string[]> {
  return (await auditOf(server, userId)).map((e) => e.action).sort();
}

export interface Enrolled {
  secret: string;
  codes: string[];
  tokens: Tokens;
}

/**
 * A sign-in whose second step is enrolment (a user without factors where one is required):
 * password, the secret read off the page, its current code, the recovery codes, continue.
 */
export async function enrolAtSignIn(
  ua: UserAgent,
  server: TestServer,
  rp: TestRp,
  user: Pick<TestUser, 'email' | 'password'>,
  params: Record<string, string> = {},
): Promise<Enrolled> {
  const first = await passwordStep(ua, server, rp, user, params);
  if (stepKind(first.page) !== 'mfa_enrol')
    throw new Error(`expected enrolment, got ${stepKind(first.page)} (${first.page.status})`);
  const secret = totpSecretOn(first.page);
  const shown = await submitEnrolment(ua, first.page, await totpCode(secret));
  if (stepKind(shown) !== 'recovery_codes')
    throw new Error(`expected the recovery codes, got ${shown.status}: ${textOf(shown.html).slice(0, 200)}`);
  const tokens = await finishAtRp(ua, server, rp, await submitContinue(ua, shown), first.request);
  return { secret, codes: recoveryCodesOn(shown), tokens };
}
