import { randomBytes } from 'node:crypto';
import { federationRedirectUri } from '../../src/federation/federation.service.js';
import { HTTP_BACKENDS } from '../helpers/backends.js';
import { useBrowserRig } from '../helpers/browser-rig.js';
import { TEST_ACTOR, uniqueEmail } from '../helpers/factories.js';
import { startUpstreamOp, type UpstreamOp } from '../helpers/upstream-op.js';

const backend = HTTP_BACKENDS[0] ?? 'postgres';
const SECRET = `upstream-secret-${randomBytes(8).toString('hex')}`;

/** Issue 17: a whole sign-in through an upstream OpenID provider in Chromium (CSP, cookies and redirects as a browser keeps them). */
describe(`federated sign-in in Chromium (${backend})`, () => {
  const rig = useBrowserRig(backend);
  let op: UpstreamOp;

  beforeAll(async () => {
    op = await startUpstreamOp({
      clients: [
        { client_id: 'corp', client_secret: SECRET, redirect_uris: [federationRedirectUri(rig.server.issuer, 'corp')] },
      ],
    });
    await rig.server.gatehouse.admin.connections.create(
      {
        id: 'corp',
        displayName: 'Corp SSO',
        kind: 'oidc',
        issuer: op.issuer,
        clientId: 'corp',
        clientSecret: SECRET,
        createAccounts: true,
        trustEmailVerification: true,
      },
      TEST_ACTOR,
    );
  });
  afterAll(async () => {
    await op?.close();
  });

  it('continues with the upstream from the sign-in page and arrives at the relying party signed in', async () => {
    const { server, rp, browser } = rig;
    const client = await server.buildClient({ redirectUris: [rp.redirectUri], firstParty: true });
    await rp.configure(server.issuer, client.clientId, client.clientSecret ?? '');
    const email = uniqueEmail('e2e-fed');
    op.setAccount('e2e-subject', { email, email_verified: true, name: 'Ada Upstream' });
    op.login = { accountId: 'e2e-subject' };
    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });
    try {
      await page.goto(`${rp.origin}/login`);
      await page.waitForURL(`${server.issuer}/interaction/**`);
      const button = page.getByRole('button', { name: 'Continue with Corp SSO' });
      expect(await button.isVisible()).toBe(true);
      expect(await button.locator('img').getAttribute('src')).toBe('/assets/icons/generic.svg');
      await button.click();
      await page.waitForURL(`${rp.origin}/callback**`);
      expect(await page.locator('[data-claim="amr"]').textContent()).toBe(JSON.stringify(['fed']));
      expect(await page.locator('[data-userinfo="email"]').textContent()).toBe(JSON.stringify(email));
      expect(blocked).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
