import type { CaughtMail } from '../../helpers/mail-catcher.js';
import { actionOf, follow, openAuthorization, type TestRp } from '../../helpers/sessions.js';
import { csrfToken, type Page, type UserAgent } from '../../helpers/user-agent.js';

export const SIGN_UP = {
  enabled: true,
  allowedEmailDomains: ['example.test', 'Partner.EXAMPLE'],
  requireEmailVerification: true,
  verificationLinkTtlSeconds: 86_400,
};

/** Opens an authorization, follows the login page's "Create an account" link and returns the form. */
export async function openSignUp(ua: UserAgent, rp: TestRp, origin: string, params: Record<string, string> = {}) {
  const { request, page: login } = await openAuthorization(ua, rp, origin, params);
  const href = /data-signup-link>[^<]*<a href="([^"]+)"/.exec(login.html)?.[1];
  if (!href) throw new Error(`no sign-up link on ${login.url} (${login.status})`);
  return { request, login, form: await ua.get(href) };
}

export function submitSignUp(
  ua: UserAgent,
  form: Page,
  fields: { email: string; password: string; name?: string },
  csrf = csrfToken(form.html),
): Promise<Page> {
  return ua.post(actionOf(form, '/signup'), {
    csrf,
    name: fields.name ?? '',
    email: fields.email,
    password: fields.password,
  });
}

/** The link a mail carries to one of Gatehouse's pages. */
export function linkIn(mail: CaughtMail, path: string): string {
  const link = mail.links.find((l) => new URL(l).pathname === path);
  if (!link) throw new Error(`no ${path} link in "${mail.subject}": ${mail.links.join(', ')}`);
  return link;
}

/** Opens a mailed link and presses its confirm button: GET shows the form, POST uses the link. */
export async function useMailedLink(ua: UserAgent, link: string): Promise<{ confirm: Page; done: Page }> {
  const confirm = await ua.get(link);
  const token = new URL(link).searchParams.get('token') ?? '';
  const action = /<form method="post" action="([^"]+)"/.exec(confirm.html)?.[1]?.replace(/&amp;/g, '&');
  if (!action?.startsWith(new URL(link).pathname)) throw new Error(`no confirm form on ${link} (${confirm.status})`);
  const done = await ua.post(action, { csrf: csrfToken(confirm.html), token });
  return { confirm, done };
}

/** Submits a login form and follows the OP's redirects to the RP's callback (or the page shown). */
export async function loginAndFollow(
  ua: UserAgent,
  login: Page,
  email: string,
  password: string,
  origin: string,
): Promise<Page> {
  const posted = await ua.post(actionOf(login, '/login'), { csrf: csrfToken(login.html), email, password });
  if (!posted.location) return posted;
  if (!posted.location.startsWith(origin)) return posted;
  return follow(ua, posted.location, origin);
}
