import type { TestUser } from '../../helpers/factories.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import type { Backend } from '../../helpers/backends.js';
import { BOOT_TIMEOUT, submitLogin, textOf } from '../../helpers/sessions.js';
import { UserAgent, csrfToken, type FormFields, type Page } from '../../helpers/user-agent.js';
import { ADMIN_ROLE } from '../../../src/roles/roles.service.js';
import { stepKind, submitCode, submitContinue, submitEnrolment, totpCode, totpSecretOn } from '../mfa/support.js';

/**
 * Helpers for the admin console tests: an admin built with the factories, and a sign-in to
 * /admin through Gatehouse's own pages, enrolling an authenticator app on the way when the
 * console requires a second factor (config admin.consoleMfa, 'required' by default).
 */

export interface ConsoleUser extends TestUser {
  /** Set once the user enrolled an authenticator app at a console sign-in. */
  totpSecret: string | null;
  /** TOTP codes used so far: each sign-in takes a newer time step (no replay). */
  codesUsed: number;
}

export async function buildConsoleUser(server: TestServer, options: { admin: boolean }): Promise<ConsoleUser> {
  const user = await server.buildUser();
  if (options.admin) await server.gatehouse.storage.storage.roles.assign(user.id, ADMIN_ROLE);
  return { ...user, totpSecret: null, codesUsed: 0 };
}

const isConsolePage = (page: Page) => page.status === 200 && page.html.includes('data-admin-email');

/**
 * Opens `path` of the console, signing in as `user` when asked to. Returns the console page,
 * or the page that stopped the way (the 403 for a non-admin).
 */
export async function openConsole(ua: UserAgent, user: ConsoleUser, path = '/admin'): Promise<Page> {
  let page = await ua.get(path);
  for (let step = 0; step < 20; step++) {
    if (page.location) {
      page = await ua.get(page.location);
      continue;
    }
    if (isConsolePage(page)) return page;
    const kind = stepKind(page);
    if (kind === 'login') {
      page = await submitLogin(ua, page, user.email, user.password);
    } else if (kind === 'mfa_enrol') {
      user.totpSecret = totpSecretOn(page);
      page = await submitEnrolment(ua, page, await totpCode(user.totpSecret, user.codesUsed++));
    } else if (kind === 'recovery_codes') {
      page = await submitContinue(ua, page);
    } else if (kind === 'mfa' && user.totpSecret) {
      page = await submitCode(ua, page, 'totp', await totpCode(user.totpSecret, user.codesUsed++));
    } else if (page.status >= 400) {
      return page;
    } else {
      throw new Error(`unexpected page ${page.status} at ${page.url}: ${textOf(page.html).slice(0, 300)}`);
    }
  }
  throw new Error('too many steps');
}

/** Posts a console form with the CSRF token of the page it is on. */
export function postForm(ua: UserAgent, from: Page, path: string, fields: FormFields = {}): Promise<Page> {
  return ua.post(path, { csrf: csrfToken(from.html), ...fields });
}

export interface SignedInAdmin {
  ua: UserAgent;
  admin: ConsoleUser;
  /** The dashboard, for its CSRF token. */
  page: Page;
}

/** A new admin, signed in to the console in a new user agent. */
export async function signInAdmin(server: TestServer): Promise<SignedInAdmin> {
  const admin = await buildConsoleUser(server, { admin: true });
  const ua = new UserAgent(server.issuer);
  const page = await openConsole(ua, admin);
  if (page.status !== 200) throw new Error(`admin sign-in stopped with ${page.status}`);
  return { ua, admin, page };
}

export interface ConsoleFixture extends SignedInAdmin {
  server: TestServer;
}

/**
 * For a describe block: a server on `backend` and an admin signed in to its console, ready
 * in beforeAll (the returned object is filled in then) and closed in afterAll.
 */
export function useSignedInConsole(backend: Backend): ConsoleFixture {
  const fixture = {} as ConsoleFixture;
  beforeAll(async () => {
    fixture.server = await startTestServer(backend);
    Object.assign(fixture, await signInAdmin(fixture.server));
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await fixture.server?.close();
  });
  return fixture;
}
