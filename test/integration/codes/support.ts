import type { CaughtMail } from '../../helpers/mail-catcher.js';
import type { WebhookReceiver } from '../../helpers/sms-gateways.js';
import { csrfToken, type Page, type UserAgent } from '../../helpers/user-agent.js';
import { actionOf, follow, openAuthorization, type TestRp } from '../../helpers/sessions.js';
import type { AuthRequest } from '../../helpers/rp.js';
import type { TestServer } from '../../helpers/server.js';

/** Helpers for the code and link sign-in pages (issue 18). */

export const SMS_SECRET = 'a-webhook-secret-of-at-least-32-chars!';

/** The login page's "Email me a link / a code" button: its formaction on the login form. */
export function emailSignInAction(login: Page): string {
  return actionOf(login, '/login').replace(/\/login$/, '/email-sign-in');
}

/** Opens an authorization and asks for a sign-in code or link for `email`; returns the answer (a 303 when accepted). */
export async function askForEmailSignIn(
  ua: UserAgent,
  server: TestServer,
  rp: TestRp,
  email: string,
  mode: 'code' | 'link',
  params: Record<string, string> = {},
): Promise<{ request: AuthRequest; login: Page; answer: Page }> {
  const { request, page: login } = await openAuthorization(ua, rp, server.issuer, params);
  const answer = await ua.post(emailSignInAction(login), { csrf: csrfToken(login.html), email, mode, password: '' });
  return { request, login, answer };
}

/** The same, following to the "check your mail" page. */
export async function atCheckMailPage(
  ua: UserAgent,
  server: TestServer,
  rp: TestRp,
  email: string,
  mode: 'code' | 'link',
  params: Record<string, string> = {},
): Promise<{ request: AuthRequest; page: Page; answer: Page }> {
  const asked = await askForEmailSignIn(ua, server, rp, email, mode, params);
  if (asked.answer.status !== 303 || !asked.answer.location)
    throw new Error(`email sign-in refused with ${asked.answer.status}`);
  return { ...asked, page: await follow(ua, asked.answer.location, server.issuer) };
}

export function submitEmailCode(ua: UserAgent, page: Page, code: string): Promise<Page> {
  return ua.post(actionOf(page, '/email-sign-in/code'), { csrf: csrfToken(page.html), code });
}

/** The sign-in link in a caught mail. */
export function signInLinkIn(mail: CaughtMail): string {
  const link = mail.links.find((l) => l.includes('/email/sign-in?'));
  if (!link) throw new Error(`no sign-in link in: ${mail.text}`);
  return link;
}

/** The code a caught mail carries (a line of digits of its own). */
export function codeInMail(mail: CaughtMail): string {
  const match = /^\s*(\d{6,8})\s*$/m.exec(mail.text);
  if (!match?.[1]) throw new Error(`no code in: ${mail.text}`);
  return match[1];
}

/** The code shown to a browser that opened someone else's link. */
export function handoffCodeOn(page: Page): string | undefined {
  return /<code data-handoff-code>(\d+)<\/code>/.exec(page.html)?.[1];
}

/** Waits for the `n`th SMS (1-based) to reach the gateway (deliveries run in the background). */
export async function nthSms(
  receiver: WebhookReceiver,
  n: number,
  timeoutMs = 10_000,
): Promise<{ to: string; text: string }> {
  const deadline = Date.now() + timeoutMs;
  while (receiver.received.length < n) {
    if (Date.now() > deadline) throw new Error(`no SMS #${n} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const body = receiver.received[n - 1]?.body;
  return { to: body?.to ?? '', text: body?.text ?? '' };
}

export function codeInSms(text: string): string {
  const match = /^(\d{6,8}) /.exec(text);
  if (!match?.[1]) throw new Error(`no code in: ${text}`);
  return match[1];
}
