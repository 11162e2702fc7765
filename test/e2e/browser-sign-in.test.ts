import type { Browser } from 'playwright-core';
import { BACKENDS } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchChromium } from '../helpers/browser.js';
import { startTinyRp, type TinyRp } from '../helpers/tiny-rp.js';

const backend = BACKENDS[0] ?? 'embedded';

describe(`browser sign-in in Chromium (${backend})`, () => {
  let server: TestServer;
  let rp: TinyRp;
  let browser: Browser;
  beforeAll(async () => {
    [server, rp, browser] = await Promise.all([startTestServer(backend), startTinyRp(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await rp?.close();
    await server?.close();
  });

  it('signs in through the real pages and shows the ID token claims at the relying party', async () => {
    const user = await server.buildUser({ name: 'Grace Hopper' });
    const client = await server.buildClient({ redirectUris: [rp.redirectUri], firstParty: true });
    await rp.configure(server.issuer, client.clientId, client.clientSecret ?? '');
    const page = await browser.newPage();

    await page.goto(`${rp.origin}/login`);
    await page.waitForURL(`${server.issuer}/interaction/**`);
    expect(await page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(await page.getByLabel('Email address').getAttribute('autocomplete')).toBe('username webauthn');

    await page.getByLabel('Email address').fill(user.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('not correct');

    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${rp.origin}/callback**`);
    expect(await page.locator('[data-claim="sub"]').textContent()).toBe(JSON.stringify(user.id));
    expect(await page.locator('[data-userinfo="email"]').textContent()).toBe(JSON.stringify(user.email));
    expect(await page.locator('[data-userinfo="name"]').textContent()).toBe(JSON.stringify('Grace Hopper'));
    expect(await page.locator('[data-claim="amr"]').textContent()).toBe(JSON.stringify(['pwd']));
    await page.close();
  });
});
