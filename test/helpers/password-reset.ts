import type { MailCatcher } from './mail-catcher.js';
import { UserAgent, csrfToken, type Page } from './user-agent.js';
import { inputValue, textOf } from './sessions.js';

/** The pages of the password reset flow, driven as a browser would. */

/** The absolute action of the form posting to `path` (its query, the page language, kept). */
function actionTo(page: Page, path: string): string {
  const action = new RegExp(`<form[^>]*action="(${path}(?:\\?[^"]*)?)"`).exec(page.html)?.[1];
  if (!action) throw new Error(`no form posting to ${path} on ${page.url} (${page.status})`);
  return new URL(textOf(action), page.url).toString();
}

/** Opens /password/forgot (optionally from a sign-in) and sends the address. */
export async function requestReset(ua: UserAgent, email: string, query = ''): Promise<Page> {
  const form = await ua.get(`/password/forgot${query}`);
  if (form.status !== 200) throw new Error(`forgot page answered ${form.status}`);
  const fields: Record<string, string> = { csrf: csrfToken(form.html), email };
  const interaction = inputValue(form.html, 'interaction');
  if (interaction) fields.interaction = interaction;
  return ua.post(actionTo(form, '/password/forgot'), fields);
}

/** The reset link of the next reset mail to `email`. */
export async function resetLinkFor(mail: MailCatcher, email: string): Promise<string> {
  const message = await mail.next(email);
  const link = message.links.find((l) => l.includes('/password/reset?token='));
  if (!link) throw new Error(`no reset link in "${message.subject}"`);
  return link;
}

/** Opens the mailed link and submits a new password (typed twice unless `confirm` says otherwise). */
export async function submitNewPassword(
  ua: UserAgent,
  link: string,
  password: string,
  confirm = password,
): Promise<Page> {
  const form = await ua.get(link);
  if (form.status !== 200) return form;
  return ua.post(actionTo(form, '/password/reset'), {
    csrf: csrfToken(form.html),
    token: inputValue(form.html, 'token') ?? '',
    password,
    password_confirm: confirm,
  });
}
