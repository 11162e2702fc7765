/**
 * `npm run screenshots`: the pages of issue 21 at 1280×800 and 390×844, light and dark, into
 * docs/screenshots/ (or the folder given: `npm run screenshots -- /tmp/shots`, to look at a
 * change without touching docs/) — a real server on the embedded store with a few users and
 * clients, driven by Debian's Chromium. Not a test: the pictures are for people reading
 * docs/admin-console.md and docs/design.md.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { packageRoot } from '../../src/config/package-root.js';
import { ADMIN_ROLE } from '../../src/roles/roles.service.js';
import { launchChromium, signInToAccount } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startTinyRp } from '../helpers/tiny-rp.js';

const OUT = process.argv[2] ?? join(packageRoot, 'docs', 'screenshots');
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const SCHEMES = ['light', 'dark'] as const;

async function shoot(browser: Browser, name: string, visit: (page: Page) => Promise<void>): Promise<void> {
  for (const [size, viewport] of Object.entries(VIEWPORTS))
    for (const scheme of SCHEMES) {
      const context = await browser.newContext({ viewport, colorScheme: scheme });
      const page = await context.newPage();
      await visit(page);
      await page.screenshot({ path: join(OUT, `${name}-${size}-${scheme}.png`), fullPage: false });
      await context.close();
    }
}

async function signInAdmin(page: Page, server: TestServer, admin: { email: string; password: string }) {
  await signInToAccount(page, server.issuer, admin);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const [server, rp, browser] = await Promise.all([
    startTestServer('embedded', { admin: { consoleMfa: 'optional' } }),
    startTinyRp(),
    launchChromium(),
  ]);
  try {
    const admin = await server.buildUser({ name: 'Ada Admin' });
    await server.gatehouse.storage.storage.roles.assign(admin.id, ADMIN_ROLE);
    const member = await server.buildUser({ name: 'Grace Member' });
    const thirdParty = await server.buildClient({
      name: 'Photo Book',
      firstParty: false,
      redirectUris: [rp.redirectUri],
    });
    await rp.configure(server.issuer, thirdParty.clientId, thirdParty.clientSecret ?? '');

    await shoot(browser, 'sign-in', async (page) => {
      await page.goto(`${rp.origin}/login`);
      await page.getByLabel('Email address').waitFor();
    });
    await shoot(browser, 'account', async (page) => {
      await signInToAccount(page, server.issuer, member);
    });
    await shoot(browser, 'consent', async (page) => {
      await page.goto(`${rp.origin}/login`);
      await page.getByLabel('Email address').fill(member.email);
      await page.getByLabel('Password').fill(member.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByText('Photo Book').first().waitFor();
    });
    await shoot(browser, 'console-dashboard', async (page) => {
      await signInAdmin(page, server, admin);
      await page.goto(`${server.issuer}/admin`);
    });
    await shoot(browser, 'console-clients', async (page) => {
      await signInAdmin(page, server, admin);
      await page.goto(`${server.issuer}/admin/clients`);
    });
    await shoot(browser, 'console-new-application', async (page) => {
      await signInAdmin(page, server, admin);
      await page.goto(`${server.issuer}/admin/clients/new`);
    });
    await shoot(browser, 'console-integration', async (page) => {
      await signInAdmin(page, server, admin);
      await page.goto(`${server.issuer}/admin/clients/${thirdParty.clientId}/integration`);
    });
    console.log(`screenshots written to ${OUT}`);
  } finally {
    await browser.close();
    await rp.close();
    await server.close();
  }
}

await main();
