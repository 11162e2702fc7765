import { csrfToken, formAction, type Page, type UserAgent } from './user-agent.js';

/** The provider's anti-forgery field on the /device forms. */
function xsrfOf(html: string): string {
  const match = /name="xsrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no xsrf field on the device page');
  return match[1];
}

/** Enters a user code on /device and returns the page that answers (the confirmation, or the code page again). */
export async function enterUserCode(ua: UserAgent, issuer: string, userCode: string): Promise<Page> {
  const codePage = await ua.get(`${issuer}/device`);
  return ua.post(`${issuer}/device`, { xsrf: xsrfOf(codePage.html), user_code: userCode });
}

export interface DeviceApproval {
  /** The last page: "your device is signed in", or where the flow stopped. */
  page: Page;
  /** Every page shown on the way, by kind. */
  pages: Array<'confirm' | 'login' | 'consent'>;
}

/**
 * A person approving a device: enters the code, confirms (or cancels) the application, signs in
 * through Gatehouse's normal interaction, and ends on the device flow's last page.
 */
export async function approveDevice(
  ua: UserAgent,
  issuer: string,
  userCode: string,
  signIn: { email: string; password: string; consent?: 'allow' | 'deny'; decision?: 'confirm' | 'abort' },
): Promise<DeviceApproval> {
  const pages: DeviceApproval['pages'] = [];
  let page = await enterUserCode(ua, issuer, userCode);
  if (!page.html.includes('name="confirm"')) return { page, pages };
  pages.push('confirm');
  const decision = signIn.decision ?? 'confirm';
  page = await ua.post(`${issuer}/device`, {
    xsrf: xsrfOf(page.html),
    user_code: /name="user_code" value="([^"]+)"/.exec(page.html)?.[1] ?? userCode,
    [decision]: 'yes',
  });
  for (let step = 0; step < 20; step++) {
    if (page.location) {
      page = await ua.get(page.location);
      continue;
    }
    const login = formAction(page.html, '/login');
    const consent = formAction(page.html, '/consent');
    if (login) {
      pages.push('login');
      page = await ua.post(login, { csrf: csrfToken(page.html), email: signIn.email, password: signIn.password });
    } else if (consent && signIn.consent) {
      pages.push('consent');
      page = await ua.post(consent, { csrf: csrfToken(page.html), decision: signIn.consent });
    } else {
      return { page, pages };
    }
  }
  throw new Error('too many steps');
}
