import type { Browser, Page } from 'playwright-core';
import { HTTP_BACKENDS } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchChromium, signInToAccount as signInToAccountIn } from '../helpers/browser.js';
import { startTinyRp, type TinyRp } from '../helpers/tiny-rp.js';
import { addVirtualAuthenticator } from '../helpers/virtual-authenticator.js';
import type { TestUser } from '../helpers/factories.js';

const backend = HTTP_BACKENDS[0] ?? 'postgres';
const ACR_PHR = 'urn:gatehouse:acr:phr';

/**
 * Passkeys and security keys in a real Chromium with the DevTools virtual authenticator:
 * enrolment on /account, a passkey as the only factor at a relying party, and a security key
 * as the second factor after a password. The issuer is http://localhost (a secure context,
 * and a domain: browsers refuse an IP address as the WebAuthn RP ID).
 */
describe(`passkeys and security keys in Chromium (${backend})`, () => {
  let server: TestServer;
  let rp: TinyRp;
  let browser: Browser;
  beforeAll(async () => {
    [server, rp, browser] = await Promise.all([
      startTestServer(backend, {}, { issuerHost: 'localhost' }),
      startTinyRp(),
      launchChromium(),
    ]);
    const client = await server.buildClient({ redirectUris: [rp.redirectUri], firstParty: true });
    await rp.configure(server.issuer, client.clientId, client.clientSecret ?? '');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await rp?.close();
    await server?.close();
  });

  const credentials = () => server.gatehouse.storage.storage.credentials;
  const eventsOf = async (userId: string) =>
    (await server.gatehouse.storage.storage.audit.forSubject(userId, 50)).map((e) => e.action);

  const signInToAccount = (page: Page, user: TestUser) => signInToAccountIn(page, server.issuer, user);

  /** Signs out on /account: one click ends the provider session too (docs/sessions.md). */
  async function signOut(page: Page) {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${server.issuer}/account/signed-out`);
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
  }

  async function claim(page: Page, name: string): Promise<unknown> {
    return JSON.parse((await page.locator(`[data-claim="${name}"]`).textContent()) ?? 'null');
  }

  it('enrols a passkey on /account, signs in to the relying party with it alone (button and autofill), renames and removes it', async () => {
    const user = await server.buildUser({ name: 'Ada Passkey' });
    const context = await browser.newContext();
    const page = await context.newPage();
    const authenticator = await addVirtualAuthenticator(page, {
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    });
    try {
      await signInToAccount(page, user);
      await page.getByLabel('Name for the new key (optional)').fill('Test laptop');
      await page.getByRole('button', { name: 'Add a passkey' }).click();
      await page.waitForURL(`${server.issuer}/account?done=key-added`);
      expect(await page.locator('[data-key-label]').allTextContents()).toEqual(['Test laptop']);

      const stored = await credentials().listWebAuthn(user.id);
      expect(stored).toHaveLength(1);
      expect(stored[0]?.data).toMatchObject({ kind: 'passkey' });
      const [held] = await authenticator.credentials();
      expect(held?.isResidentCredential).toBe(true);
      expect(held?.credentialId.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')).toBe(stored[0]?.externalId);
      expect(await eventsOf(user.id)).toContain('mfa.webauthn.registered');

      await signOut(page);

      // The button: the page's autofill request is made to fail (its options call is
      // aborted), since Chromium answers a conditional request from a virtual authenticator
      // at once, without waiting for a click.
      let optionCalls = 0;
      await page.route('**/webauthn/passkey/options', (route) =>
        optionCalls++ === 0 ? route.abort() : route.continue(),
      );
      await page.goto(`${rp.origin}/login`);
      await page.waitForURL(`${server.issuer}/interaction/**`);
      expect(await page.getByLabel('Email address').getAttribute('autocomplete')).toBe('username webauthn');
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page.waitForURL(`${rp.origin}/callback**`);
      await page.unroute('**/webauthn/passkey/options');
      expect(optionCalls).toBe(2);
      expect(await claim(page, 'sub')).toBe(user.id);
      expect(await claim(page, 'amr')).toEqual(['hwk', 'user', 'mfa']);
      expect(await claim(page, 'acr')).toBe(ACR_PHR);
      expect(await eventsOf(user.id)).toContain('signin.passkey.succeeded');
      const [afterButton] = await credentials().listWebAuthn(user.id);
      expect(afterButton?.lastUsedAt).not.toBeNull();
      const counter = Number(afterButton?.data.counter);
      expect(counter).toBeGreaterThan(0);

      // Conditional UI: the passkey offered in the email field's autofill signs in, no click.
      await page.goto(`${server.issuer}/session/end`);
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
      await page.goto(`${rp.origin}/login`);
      await page.waitForURL(`${rp.origin}/callback**`);
      expect(await claim(page, 'sub')).toBe(user.id);
      expect(await claim(page, 'amr')).toEqual(['hwk', 'user', 'mfa']);
      const [afterAutofill] = await credentials().listWebAuthn(user.id);
      expect(Number(afterAutofill?.data.counter)).toBeGreaterThan(counter);

      // Rename and remove it on /account (the provider session signs the account page in).
      await page.goto(`${server.issuer}/account`);
      await page.waitForURL(`${server.issuer}/account`);
      await page.getByLabel('New name').fill('Old laptop');
      await page.getByRole('button', { name: 'Rename' }).click();
      await page.waitForURL(`${server.issuer}/account?done=key-renamed`);
      expect(await page.locator('[data-key-label]').allTextContents()).toEqual(['Old laptop']);
      await page.getByRole('button', { name: 'Remove Old laptop' }).click();
      await page.waitForURL(`${server.issuer}/account?done=key-removed`);
      expect(await page.locator('[data-keys-none]').isVisible()).toBe(true);
      expect(await eventsOf(user.id)).toEqual(expect.arrayContaining(['mfa.webauthn.renamed', 'mfa.webauthn.removed']));
      await signOut(page);

      // The authenticator still holds the passkey; the server no longer knows it.
      await page.goto(`${rp.origin}/login`);
      await page.waitForURL(`${server.issuer}/interaction/**`);
      await page.getByText('This passkey is not registered here').waitFor();
      expect(page.url()).toContain('/interaction/');
    } finally {
      await context.close();
    }
  });

  it('enrols a security key and uses it as the second factor after the password', async () => {
    const user = await server.buildUser({ name: 'Grace Key' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await addVirtualAuthenticator(page, {
      transport: 'usb',
      hasResidentKey: false,
      hasUserVerification: false,
      isUserVerified: false,
    });
    try {
      await signInToAccount(page, user);
      await page.getByRole('button', { name: 'Add a security key' }).click();
      await page.waitForURL(`${server.issuer}/account?done=key-added`);
      expect(await page.locator('[data-key-label]').allTextContents()).toEqual(['Security key']);
      const [stored] = await credentials().listWebAuthn(user.id);
      expect(stored?.data).toMatchObject({ kind: 'security_key' });

      await signOut(page);

      await page.goto(`${rp.origin}/login`);
      await page.waitForURL(`${server.issuer}/interaction/**`);
      await page.getByLabel('Email address').fill(user.email);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
      await page.getByRole('button', { name: 'Use your security key' }).click();
      await page.waitForURL(`${rp.origin}/callback**`);
      expect(await claim(page, 'sub')).toBe(user.id);
      expect(await claim(page, 'amr')).toEqual(['pwd', 'hwk', 'mfa']);
      expect(await claim(page, 'acr')).toBe(ACR_PHR);
      expect(await eventsOf(user.id)).toEqual(
        expect.arrayContaining(['mfa.webauthn.registered', 'signin.mfa.succeeded']),
      );
    } finally {
      await context.close();
    }
  });
});
