import axe from 'axe-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { HTTP_BACKENDS } from '../helpers/backends.js';
import { launchChromium, signInToAccount } from '../helpers/browser.js';
import { BOOT_TIMEOUT, startTestServer, type TestServer } from '../helpers/server.js';
import { startTinyRp, type TinyRp } from '../helpers/tiny-rp.js';
import { ADMIN_ROLE } from '../../src/roles/roles.service.js';

const backend = HTTP_BACKENDS[0] ?? 'postgres';

/** WCAG 2.0, 2.1 and 2.2 at levels A and AA: what the pages promise (docs/decisions.md). */
const STANDARDS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

interface Violation {
  rule: string;
  nodes: string[];
}

/** axe-core run in the page as it is now; each violation by rule with the elements it found. */
async function violationsOn(page: Page): Promise<Violation[]> {
  await page.evaluate(axe.source);
  const run = `axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(STANDARDS)} } })`;
  const results = await page.evaluate<axe.AxeResults>(run);
  return results.violations.map((violation) => ({
    rule: violation.id,
    nodes: violation.nodes.map((node) => node.target.join(' ')),
  }));
}

/**
 * The page states people see most — sign-in, its error, consent, /account, the console's
 * dashboard, clients and users — checked with axe-core in the light and the dark colour scheme
 * (prefers-color-scheme; src/http/brand.ts sets the dark colours). One server, relying party and
 * Chromium for both schemes (a boot and a browser launch fewer): each test makes its own users
 * and client and has a browser context of its own.
 */
describe(`accessibility of the pages in Chromium (${backend})`, () => {
  let server: TestServer;
  let rp: TinyRp;
  let browser: Browser;
  beforeAll(async () => {
    [server, rp, browser] = await Promise.all([
      // An optional console second factor: the console's pages, not its enrolment, are under test here.
      startTestServer(backend, { admin: { consoleMfa: 'optional' } }),
      startTinyRp(),
      launchChromium(),
    ]);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await browser?.close();
    await rp?.close();
    await server?.close();
  });

  describe.each(['light', 'dark'] as const)('%s scheme', (scheme) => {
    /** A browser of its own per test (no session carried over), in the scheme under test. */
    const freshPage = async (): Promise<{ context: BrowserContext; page: Page }> => {
      // axe is evaluated in the page: the pages' CSP allows scripts from 'self' only.
      const context = await browser.newContext({ colorScheme: scheme, bypassCSP: true });
      return { context, page: await context.newPage() };
    };

    it('sign-in, a refused password and the consent page of a third-party client', async () => {
      const user = await server.buildUser();
      const client = await server.buildClient({
        firstParty: false,
        redirectUris: [rp.redirectUri],
        name: 'Third Party',
      });
      await rp.configure(server.issuer, client.clientId, client.clientSecret ?? '');
      const { context, page } = await freshPage();
      expect(await page.evaluate<boolean>(`matchMedia('(prefers-color-scheme: dark)').matches`)).toBe(
        scheme === 'dark',
      );
      await page.goto(`${rp.origin}/login`);
      await page.waitForURL(`${server.issuer}/interaction/**`);
      expect(await violationsOn(page)).toEqual([]);

      await page.getByLabel('Email address').fill(user.email);
      await page.getByLabel('Password').fill('not the password at all');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.locator('.error').first().waitFor();
      expect(await violationsOn(page)).toEqual([]);

      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByText('Third Party').first().waitFor();
      expect(await violationsOn(page)).toEqual([]);
      await context.close();
    });

    it('/account and the console: dashboard, clients and users', async () => {
      const admin = await server.buildUser({ name: 'Ada Admin' });
      await server.gatehouse.storage.storage.roles.assign(admin.id, ADMIN_ROLE);
      const { context, page } = await freshPage();
      await signInToAccount(page, server.issuer, admin);
      expect(await violationsOn(page)).toEqual([]);
      for (const path of ['/admin', '/admin/clients', '/admin/users']) {
        await page.goto(`${server.issuer}${path}`);
        await page.getByRole('heading', { level: 1 }).first().waitFor();
        expect({ path, violations: await violationsOn(page) }).toEqual({ path, violations: [] });
      }
      await context.close();
    });
  });
});
