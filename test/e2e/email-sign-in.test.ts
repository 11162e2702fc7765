import type { Browser } from 'playwright-core';
import { HTTP_BACKENDS } from '../helpers/backends.js';
import { launchChromium } from '../helpers/browser.js';
import { startMailCatcher, type MailCatcher } from '../helpers/mail-catcher.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { BOOT_TIMEOUT } from '../helpers/sessions.js';
import { startTinyRp, type TinyRp } from '../helpers/tiny-rp.js';
import { signInLinkIn } from '../integration/codes/support.js';

const backend = HTTP_BACKENDS[0] ?? 'postgres';

describe(`email sign-in in Chromium (${backend})`, () => {
  let mail: MailCatcher;
  let server: TestServer;
  let rp: TinyRp;
  let browser: Browser;

  beforeAll(async () => {
    mail = await startMailCatcher();
    [server, rp, browser] = await Promise.all([
      startTestServer(backend, { mail: { smtpUrl: mail.url, from: 'Gatehouse <no-reply@example.test>' } }),
      startTinyRp(),
      launchChromium(),
    ]);
    const client = await server.buildClient({ redirectUris: [rp.redirectUri], firstParty: true });
    await rp.configure(server.issuer, client.clientId, client.clientSecret ?? '');
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await browser?.close();
    await rp?.close();
    await server?.close();
    await mail?.close();
  });

  it('signs in with the mailed link opened in the same browser; the resend wait counts down under the CSP', async () => {
    const user = await server.buildUser();
    const context = await browser.newContext();
    const page = await context.newPage();
    const refused: string[] = [];
    page.on('console', (message) => {
      // (A favicon's 404 is no concern here.)
      if (message.text().includes('Content Security Policy')) refused.push(message.text());
    });
    // The page's timers on a clock the test moves: the countdown is seen without waiting for it.
    await page.clock.install();
    await page.goto(`${rp.origin}/login`);
    await page.waitForURL(`${server.issuer}/interaction/**`);
    await page.getByLabel('Email address').fill(user.email);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();

    const wait = page.locator('[data-resend-wait]');
    const shown = Number(await wait.locator('[data-countdown]').textContent());
    expect(shown).toBeGreaterThan(50); // the test server's 60 s, rendered by the server
    await page.clock.fastForward(10_000);
    expect(Number(await wait.locator('[data-countdown]').textContent())).toBeLessThanOrEqual(shown - 9);
    await page.clock.fastForward(60_000);
    await wait.waitFor({ state: 'hidden' });
    expect(refused).toEqual([]);

    await page.goto(signInLinkIn(await mail.next(user.email)));
    await page.waitForURL(`${rp.origin}/callback**`);
    expect(await page.locator('[data-claim="sub"]').textContent()).toBe(JSON.stringify(user.id));
    expect(await page.locator('[data-claim="amr"]').textContent()).toBe(JSON.stringify(['otp']));
    await context.close();
  });

  it('shows a code when the link is opened in another browser; the first browser finishes with it', async () => {
    const user = await server.buildUser();
    const first = await browser.newContext();
    const second = await browser.newContext();
    const asking = await first.newPage();
    await asking.goto(`${rp.origin}/login`);
    await asking.waitForURL(`${server.issuer}/interaction/**`);
    await asking.getByLabel('Email address').fill(user.email);
    await asking.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await asking.getByRole('heading', { name: 'Check your email' }).waitFor();

    const other = await second.newPage();
    await other.goto(signInLinkIn(await mail.next(user.email)));
    await other.getByRole('button', { name: 'Show the code' }).click();
    const code = (await other.locator('[data-handoff-code]').textContent()) ?? '';
    expect(code).toMatch(/^\d{6}$/);
    expect(other.url()).not.toContain('/callback');

    await asking.getByLabel('Code from the email').fill(code);
    await asking.getByRole('button', { name: 'Sign in', exact: true }).click();
    await asking.waitForURL(`${rp.origin}/callback**`);
    expect(await asking.locator('[data-claim="sub"]').textContent()).toBe(JSON.stringify(user.id));

    // The second browser was signed in to nothing: the RP's sign-in there asks for credentials.
    await other.goto(`${rp.origin}/login`);
    await other.waitForURL(`${server.issuer}/interaction/**`);
    expect(await other.getByLabel('Password').isVisible()).toBe(true);
    await first.close();
    await second.close();
  });
});
