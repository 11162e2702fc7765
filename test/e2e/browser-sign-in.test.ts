import { HTTP_BACKENDS } from '../helpers/backends.js';
import { useBrowserRig } from '../helpers/browser-rig.js';

const backend = HTTP_BACKENDS[0] ?? 'postgres';

describe(`browser sign-in in Chromium (${backend})`, () => {
  const rig = useBrowserRig(backend);

  it('signs in through the real pages and shows the ID token claims at the relying party', async () => {
    const { server, rp, browser } = rig;
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

  it('the consent page says who is asking, and "Not you?" lets someone else sign in and allow, within the CSP', async () => {
    const { server, rp, browser } = rig;
    const grace = await server.buildUser({ name: 'Grace Hopper' });
    const ada = await server.buildUser({ name: 'Ada Lovelace' });
    const client = await server.buildClient({
      name: 'Tiny Shop',
      redirectUris: [rp.redirectUri],
      firstParty: false,
      policyUri: 'https://tiny-shop.example/privacy',
    });
    await rp.configure(server.issuer, client.clientId, client.clientSecret ?? '');
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    const signInAs = async (email: string, password: string) => {
      await page.getByLabel('Email address').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    };

    await page.goto(`${rp.origin}/login`);
    await page.waitForURL(`${server.issuer}/interaction/**`);
    await signInAs(grace.email, grace.password);
    const main = page.getByRole('main');
    expect(await main.textContent()).toContain('Tiny Shop is asking to:');
    expect(await main.textContent()).toContain(`Afterwards you are sent back to ${new URL(rp.redirectUri).host}.`);
    expect(await page.getByRole('link', { name: /Privacy policy of Tiny Shop/ }).getAttribute('href')).toBe(
      'https://tiny-shop.example/privacy',
    );
    expect(await main.textContent()).toContain('Signed in as Grace Hopper');

    await page.getByRole('button', { name: 'Not you? Sign in with another account' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // The provider ends Grace's session (its self-submitting confirmation) before Ada's consent.
    await signInAs(ada.email, ada.password);
    expect(await main.textContent()).toContain('Signed in as Ada Lovelace');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rp.origin}/callback**`);
    expect(await page.locator('[data-claim="sub"]').textContent()).toBe(JSON.stringify(ada.id));
    expect(violations).toEqual([]);
    await context.close();
  });
});
