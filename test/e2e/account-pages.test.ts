import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { HTTP_BACKENDS } from '../helpers/backends.js';
import { useBrowserRig } from '../helpers/browser-rig.js';
import { signInToAccount } from '../helpers/browser.js';

const backend = HTTP_BACKENDS[0] ?? 'postgres';

/** A phone's width (iPhone SE and most small Android phones): where codes used to break in two. */
const PHONE = { width: 375, height: 740 };

/** /account in Chromium on a phone: recovery codes, signing out, a cancelled sign-in (issue 15, item 13). */
describe(`account pages on a phone in Chromium (${backend})`, () => {
  const rig = useBrowserRig(backend);

  async function newCodes(page: Page): Promise<string[]> {
    const { server } = rig;
    await signInToAccount(page, server.issuer, await server.buildUser());
    await page.getByRole('button', { name: 'Generate new recovery codes' }).click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    return page.locator('[data-recovery-code]').allTextContents();
  }

  it('signs out with one click, landing on a signed-out page of /account that signs in again', async () => {
    const context = await rig.browser.newContext({ viewport: PHONE });
    const page = await context.newPage();
    try {
      await newCodes(page);
      await page.goto(`${rig.server.issuer}/account`);
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page.waitForURL(`${rig.server.issuer}/account/signed-out`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('You are signed out');
      await page.getByRole('link', { name: 'Sign in again' }).click();
      await page.waitForURL(`${rig.server.issuer}/interaction/**`);
      expect(await page.getByLabel('Email address').isVisible()).toBe(true);

      // Cancelling that sign-in lands on a page with a way back, not on an error.
      await page.getByRole('button', { name: 'Cancel and return to the application' }).click();
      await page.waitForURL(`${rig.server.issuer}/account/callback**`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign-in cancelled');
      await page.getByRole('link', { name: 'Sign in again' }).click();
      await page.waitForURL(`${rig.server.issuer}/interaction/**`);
    } finally {
      await context.close();
    }
  });

  it('shows each code on one line at 375 px, and downloads, copies and prints them', async () => {
    const context = await rig.browser.newContext({ viewport: PHONE, acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: rig.server.issuer });
    const page = await context.newPage();
    const scriptErrors: string[] = [];
    page.on('pageerror', (error) => scriptErrors.push(error.message));
    try {
      const codes = await newCodes(page);
      expect(codes).toHaveLength(10);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);

      // One line each: a code that wraps has two boxes and twice the height of one line.
      // In-page code as a string: the test's TypeScript has no DOM types.
      const shapes = (await page.evaluate(`Array.from(document.querySelectorAll('[data-recovery-code]')).map((el) => ({
        boxes: el.getClientRects().length,
        height: el.getBoundingClientRect().height,
        lineHeight: parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.5,
        right: el.getBoundingClientRect().right,
      }))`)) as Array<{ boxes: number; height: number; lineHeight: number; right: number }>;
      expect(shapes).toHaveLength(10);
      for (const shape of shapes) {
        expect(shape.boxes).toBe(1);
        expect(shape.height).toBeLessThan(shape.lineHeight * 1.5);
        expect(shape.right).toBeLessThanOrEqual(PHONE.width);
      }

      // Download: a text file of exactly the codes, one a line (a data: link; the CSP does not stop it).
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download as a text file' }).click(),
      ]);
      expect(download.suggestedFilename()).toBe('Gatehouse recovery codes.txt');
      expect(await readFile(await download.path(), 'utf8')).toBe(`${codes.join('\n')}\n`);

      // Copy: the same text on the clipboard, and the page says so.
      await page.getByRole('button', { name: 'Copy' }).click();
      await page.getByText('The codes are on the clipboard.').waitFor();
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe(`${codes.join('\n')}\n`);

      // Print: the button calls window.print (replaced here: headless Chromium has no print dialog).
      await page.evaluate('window.printed = 0; window.print = () => { window.printed += 1; }');
      await page.getByRole('button', { name: 'Print' }).click();
      expect(await page.evaluate('window.printed')).toBe(1);
      expect(scriptErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('still offers the download without scripts, and hides the buttons that need one', async () => {
    const context = await rig.browser.newContext({ viewport: PHONE, javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      const codes = await newCodes(page);
      expect(await page.getByRole('button', { name: 'Copy' }).isVisible()).toBe(false);
      expect(await page.getByRole('button', { name: 'Print' }).isVisible()).toBe(false);
      const href = (await page.getByRole('link', { name: 'Download as a text file' }).getAttribute('href')) ?? '';
      expect(href.startsWith('data:text/plain;charset=utf-8,')).toBe(true);
      expect(decodeURIComponent(href.slice('data:text/plain;charset=utf-8,'.length))).toBe(`${codes.join('\n')}\n`);
    } finally {
      await context.close();
    }
  });
});
