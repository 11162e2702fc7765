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
});
