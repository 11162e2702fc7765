import { generate } from 'otplib';
import { HTTP_BACKENDS } from '../helpers/backends.js';
import { useBrowserRig } from '../helpers/browser-rig.js';
import { ADMIN_ROLE } from '../../src/roles/roles.service.js';
import type { Page } from 'playwright-core';
import type { TestUser } from '../helpers/factories.js';
import { cli } from '../helpers/cli.js';

const backend = HTTP_BACKENDS[0] ?? 'postgres';

/** Signs in to the console: password, then (admin.consoleMfa 'required', no factor yet) enrol an authenticator app. */
async function signInToConsole(page: Page, issuer: string, admin: TestUser): Promise<void> {
  await page.goto(`${issuer}/admin`);
  await page.waitForURL(`${issuer}/interaction/**`);
  await page.getByLabel('Email address').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const secret = (await page.locator('[data-totp-secret]').textContent())?.trim() ?? '';
  expect(secret).toMatch(/^[A-Z2-7]{32,}$/);
  await page.getByLabel('Six-digit code').fill(await generate({ secret }));
  await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  await page.getByRole('button', { name: 'I have saved them, continue' }).click();
  await page.waitForURL(`${issuer}/admin`);
  expect(await page.getByRole('heading', { name: 'Admin console', level: 1 }).isVisible()).toBe(true);
  expect(await page.locator('[data-admin-email]').textContent()).toBe(admin.email);
}

describe(`admin console in Chromium (${backend})`, () => {
  const rig = useBrowserRig(backend);

  it('an admin signs in with a second factor, registers a client, and that client signs another user in', async () => {
    const { server, rp, browser } = rig;
    const admin = await server.buildUser({ name: 'Ada Admin' });
    await server.gatehouse.storage.storage.roles.assign(admin.id, ADMIN_ROLE);
    const member = await server.buildUser({ name: 'Grace Member' });
    const adminBrowser = await browser.newContext();
    const page = await adminBrowser.newPage();
    // The console's pages must live within the CSP (no inline script or style).
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });

    await signInToConsole(page, server.issuer, admin);

    // Register a client through the form.
    await page.getByRole('link', { name: 'Register a client' }).click();
    await page.waitForURL(`${server.issuer}/admin/clients/new`);
    await page.getByRole('link', { name: 'Start from the full form instead' }).click();
    await page.waitForURL(`${server.issuer}/admin/clients/new/custom`);
    await page.getByLabel('Name (shown to users on the consent page)').fill('Tiny RP');
    await page.getByLabel('Redirect URIs', { exact: true }).fill(rp.redirectUri);
    await page.getByLabel('First party: Gatehouse does not ask users to consent').check();
    await page.getByRole('button', { name: 'Register client' }).click();
    await page.getByRole('heading', { name: 'Client secret' }).waitFor();
    const clientId = (await page.locator('code[data-client-id]').textContent()) ?? '';
    const clientSecret = await page.getByRole('textbox', { name: 'Client secret' }).inputValue();
    expect(clientSecret.length).toBeGreaterThanOrEqual(32);
    // Reloading shows no secret and registers nothing again (post/redirect/get, a one-time page).
    const clientsBefore = (await server.gatehouse.storage.storage.clients.list()).length;
    await page.reload();
    await page.getByRole('heading', { name: 'Secret already shown' }).waitFor();
    expect(await page.content()).not.toContain(clientSecret);
    expect((await server.gatehouse.storage.storage.clients.list()).length).toBe(clientsBefore);

    // Shown once: the client's own page never shows it again.
    await page.getByRole('link', { name: 'Go to the client' }).click();
    await page.getByRole('heading', { name: 'Client Tiny RP' }).waitFor();
    expect(await page.content()).not.toContain(clientSecret);
    expect(violations).toEqual([]);
    await adminBrowser.close();

    // Another user signs in to the relying party with it: authorization code + PKCE, openid-client.
    await rp.configure(server.issuer, clientId, clientSecret);
    const visitor = await browser.newContext();
    const rpPage = await visitor.newPage();
    await rpPage.goto(`${rp.origin}/login`);
    await rpPage.waitForURL(`${server.issuer}/interaction/**`);
    await rpPage.getByLabel('Email address').fill(member.email);
    await rpPage.getByLabel('Password').fill(member.password);
    await rpPage.getByRole('button', { name: 'Sign in', exact: true }).click();
    await rpPage.waitForURL(`${rp.origin}/callback**`);
    expect(await rpPage.locator('[data-claim="sub"]').textContent()).toBe(JSON.stringify(member.id));
    expect(await rpPage.locator('[data-claim="aud"]').textContent()).toBe(JSON.stringify(clientId));
    expect(await rpPage.locator('[data-userinfo="name"]').textContent()).toBe(JSON.stringify('Grace Member'));
    await visitor.close();
  });

  it('fits a phone: the console pages do not scroll sideways at 375 px, and every button and field is 44 px high', async () => {
    const { server, browser } = rig;
    const admin = await server.buildUser({ name: 'Narrow Admin' });
    await server.gatehouse.storage.storage.roles.assign(admin.id, ADMIN_ROLE);
    // Long values of the kind that pushed the tables to 837 px: ids, URIs, emails, details.
    const longUser = await server.buildUser({
      email: `a.rather.long.address.for.a.narrow.screen.${Date.now()}@subdomain.example-company.com`,
    });
    const longClient = await server.buildClient({
      name: 'A client with a long descriptive name for the narrow test',
      redirectUris: ['https://a-very-long-host-name.example-company.com/oauth2/callback/with/a/long/path'],
    });
    expect(
      (
        await cli(
          server,
          'clients',
          'create',
          '--name',
          'A client with a long descriptive name for the narrow test',
          '--redirect-uri',
          'https://a-very-long-host-name.example-company.com/oauth2/callback/with/a/long/path',
          '--backchannel-logout-uri',
          'https://a-very-long-host-name.example-company.com/backchannel-logout',
        )
      ).code,
    ).toBe(0);
    const context = await browser.newContext({ viewport: { width: 375, height: 812 } });
    const page = await context.newPage();
    await signInToConsole(page, server.issuer, admin);
    const paths = [
      '/admin?range=30d',
      '/admin/clients',
      '/admin/users',
      '/admin/audit',
      // Its heading holds the long email address; the integration page, long URIs and snippets.
      `/admin/users/${longUser.id}`,
      `/admin/clients/${encodeURIComponent(longClient.clientId)}`,
      `/admin/clients/${encodeURIComponent(longClient.clientId)}/integration`,
    ];
    for (const path of paths) {
      await page.goto(`${server.issuer}${path}`);
      // The dashboard's tables are folded away behind its charts.
      await page
        .locator(path.startsWith('/admin?') ? 'svg.chart-svg' : path.includes('/clients/') ? 'h1' : 'table')
        .first()
        .waitFor();
      // A string: the test's TypeScript has no DOM types; this runs in the page.
      const widths = await page.evaluate<{ scroll: number; viewport: number }>(
        '({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth })',
      );
      expect(widths.viewport).toBe(375);
      expect({ path, scrollWidth: widths.scroll <= widths.viewport ? 'fits' : widths.scroll }).toEqual({
        path,
        scrollWidth: 'fits',
      });
      // Touch targets (views/public/style.css, --gh-target): buttons, links drawn as buttons and fields,
      // but not the buttons that read as links inside a sentence, nor check boxes (their label is the target).
      const small = await page.evaluate<string[]>(`[...document.querySelectorAll(
          'button:not(.link), .button-link, select, textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio])')]
        .filter((e) => e.getClientRects().length > 0 && e.getBoundingClientRect().height < 44)
        .map((e) => e.outerHTML.slice(0, 80))`);
      expect({ path, small }).toEqual({ path, small: [] });
    }
    await context.close();
  });
});
