import { UserAgent, csrfToken, formAction, type Page } from './user-agent.js';

/**
 * Signs in to /account (at `start`: under an issuer's path prefix, the prefixed path) through
 * Gatehouse's own pages; answers a TOTP step if `totpCode` is given.
 */
export async function openAccountPage(
  ua: UserAgent,
  email: string,
  password: string,
  totpCode?: () => Promise<string>,
  start = '/account',
): Promise<Page> {
  let page = await ua.get(start);
  for (let step = 0; step < 20; step++) {
    if (page.location) {
      page = await ua.get(page.location);
      continue;
    }
    if (page.status === 200 && page.html.includes('data-account-email')) return page;
    const login = formAction(page.html, '/login');
    const code = formAction(page.html, '/mfa/code');
    if (login && !page.html.includes('data-account-email')) {
      page = await ua.post(login, { csrf: csrfToken(page.html), email, password });
    } else if (code && totpCode) {
      page = await ua.post(code, { csrf: csrfToken(page.html), method: 'totp', code: await totpCode() });
    } else {
      throw new Error(
        `unexpected page ${page.status} at ${page.url}: ${page.html
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .slice(0, 300)}`,
      );
    }
  }
  throw new Error('too many steps');
}

export function accountCsrf(page: Page): string {
  return csrfToken(page.html);
}
