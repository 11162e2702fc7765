import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { UserAgent, runAuthorization, type Page } from '../../helpers/user-agent.js';
import { adminToken, api } from '../../helpers/admin-api.js';
import { createApplication, snippetOn } from '../../helpers/integration-page.js';
import { DEVICE_CODE_GRANT } from '../../../src/clients/client-flows.js';
import { TEST_ACTOR } from '../../helpers/factories.js';
import { postForm, signInAdmin, useSignedInConsole } from './support.js';

/** The seven relying parties of the integration page, by their data-snippet ids. */
const SNIPPETS = ['openid-client', 'oidc-client-ts', 'mod_auth_openidc', 'authlib', 'spring', 'aspnetcore', 'go-oidc'];

/** Runs the page's Node snippet as its own module in a child process: step 1, then step 2 with the callback URL. */
async function runNodeSnippet(
  snippet: string,
  env: Record<string, string>,
  signIn: (url: string) => Promise<string>,
): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-node-snippet-'));
  try {
    symlinkSync(join(process.cwd(), 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, 'signin.mjs'), snippet);
    writeFileSync(
      join(dir, 'harness.mjs'),
      `import { createInterface } from 'node:readline';
const snippet = await import('./signin.mjs');
const started = await snippet.signInUrl();
console.log(JSON.stringify(started));
for await (const line of createInterface({ input: process.stdin })) {
  console.log(JSON.stringify(await snippet.callback(new URL(line), started)));
  break;
}
process.stdin.destroy();
`,
    );
    const child = spawn(process.execPath, ['harness.mjs'], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env } });
    let errors = '';
    child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async () => {
      const line = await lines.next();
      if (line.done) throw new Error(`the snippet stopped: ${errors}`);
      return JSON.parse(line.value) as Record<string, unknown>;
    };
    const started = await next();
    child.stdin.write(`${await signIn(String(started.url))}\n`);
    const claims = await next();
    await new Promise((resolve) => child.once('close', resolve));
    return claims;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(HTTP_BACKENDS)('admin console: applications (%s)', (backend) => {
  const signedIn = useSignedInConsole(backend);
  const server = () => signedIn.server;
  const clients = () => server().gatehouse.storage.storage.clients;

  it('starts from a type: each preset registers the client it describes, the full form one link away', async () => {
    const { ua, page } = signedIn;
    const chooser = await ua.get('/admin/clients/new');
    expect(chooser.status).toBe(200);
    for (const type of ['spa', 'web', 'native', 'm2m', 'device'])
      expect(chooser.html).toContain(`href="/admin/clients/new/${type}" data-app-type="${type}"`);
    expect(chooser.html).toContain('href="/admin/clients/new/custom"');
    // The short form of a type that signs people in asks for redirect URIs; a machine's does not.
    expect((await ua.get('/admin/clients/new/spa')).html).toContain('name="redirect_uris"');
    expect((await ua.get('/admin/clients/new/m2m')).html).not.toContain('name="redirect_uris"');
    // "All settings": the full form filled in with the preset.
    const full = await ua.get('/admin/clients/new/custom?from=m2m');
    expect(full.html).toMatch(/value="client_credentials" checked/);
    expect(full.html).not.toMatch(/value="authorization_code" checked/);

    const made = {
      spa: await createApplication(ua, page, 'spa', { name: 'Shop SPA', redirect_uris: 'https://shop.example/cb' }),
      web: await createApplication(ua, page, 'web', { name: 'Shop web', redirect_uris: 'https://shop.example/oidc' }),
      native: await createApplication(ua, page, 'native', {
        name: 'Shop CLI',
        redirect_uris: 'http://127.0.0.1:8400/callback',
      }),
      m2m: await createApplication(ua, page, 'm2m', { name: 'Shop batch' }),
      device: await createApplication(ua, page, 'device', { name: 'Shop TV' }),
    };
    const metadataOf = async (id: string) => (await clients().find(id))?.metadata;
    expect(await metadataOf(made.spa.clientId)).toMatchObject({
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      redirect_uris: ['https://shop.example/cb'],
    });
    expect(made.spa.clientSecret).toBeUndefined();
    expect(await metadataOf(made.web.clientId)).toMatchObject({
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access',
    });
    expect(made.web.clientSecret).toMatch(/^[\w-]{32,}$/);
    expect(await metadataOf(made.native.clientId)).toMatchObject({ token_endpoint_auth_method: 'none' });
    expect(await metadataOf(made.m2m.clientId)).toMatchObject({
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      redirect_uris: [],
    });
    expect(made.m2m.clientSecret).toMatch(/^[\w-]{32,}$/);
    expect(await metadataOf(made.device.clientId)).toMatchObject({
      token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
    });
    // A machine's integration page: its token snippet, and no Try sign-in (it signs no one in).
    const machine = await ua.get(`/admin/clients/${made.m2m.clientId}/integration`);
    expect(snippetOn(machine.html, 'openid-client')).toContain('client.clientCredentialsGrant(config');
    expect(machine.html).toContain('data-try-unavailable');
    expect(
      snippetOn((await ua.get(`/admin/clients/${made.device.clientId}/integration`)).html, 'openid-client'),
    ).toContain('client.initiateDeviceAuthorization(config');
    // The secret page leads on to the integration page.
    expect((await ua.get(`/admin/clients/${made.web.clientId}`)).html).toContain(
      `/admin/clients/${made.web.clientId}/integration`,
    );
  });

  it("refuses what does not fit the type, beside its field, and creates nothing; the API's template likewise", async () => {
    const { ua, page } = signedIn;
    const before = (await clients().list()).length;
    const refused = async (type: string, fields: Record<string, string>) => {
      const answer = await postForm(ua, page, `/admin/clients/new/${type}`, fields);
      expect(answer.status).toBe(400);
      return answer.html;
    };
    const noRedirect = await refused('spa', { name: 'No way back', redirect_uris: '' });
    expect(noRedirect).toContain('id="f-redirect_uris-error"');
    expect(noRedirect).toContain('at least one is needed');
    expect(noRedirect).toContain('value="No way back"');
    expect(await refused('spa', { name: 'Plain http', redirect_uris: 'http://shop.example/cb' })).toContain(
      'must use https',
    );
    // A machine's form has no redirect URIs; one posted anyway is refused, not ignored.
    expect(await refused('m2m', { name: 'Batch', redirect_uris: 'https://batch.example/cb' })).toContain(
      'has no redirect URIs',
    );
    expect((await postForm(ua, page, '/admin/clients/new/mainframe', { name: 'Old' })).status).toBe(404);
    expect((await clients().list()).length).toBe(before);

    const token = await adminToken(server());
    const spa = await api(server(), token, 'POST', '/clients', {
      name: 'API SPA',
      template: 'spa',
      redirect_uris: ['https://api-shop.example/cb'],
    });
    expect(spa.status).toBe(201);
    expect(spa.body).toMatchObject({ public: true, token_endpoint_auth_method: 'none', client_secret: null });
    const secretSpa = await api(server(), token, 'POST', '/clients', {
      name: 'API SPA',
      template: 'spa',
      redirect_uris: ['https://api-shop.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(secretSpa.status).toBe(400);
    expect(JSON.stringify(secretSpa.body)).toMatch(/token_endpoint_auth_method.*cannot keep a secret/);
    const m2m = await api(server(), token, 'POST', '/clients', {
      name: 'API batch',
      template: 'm2m',
      redirect_uris: ['https://batch.example/cb'],
    });
    expect(m2m.status).toBe(400);
    expect(JSON.stringify(m2m.body)).toContain('redirect_uris');
  });

  it('shows the real values on the integration page, escaped for HTML and for each language, and no secret', async () => {
    const { ua } = signedIn;
    const tricky = 'https://rp.example/cb?q="x"&y=<b>\\';
    const { client, clientSecret } = await server().gatehouse.admin.clients.create(
      {
        name: 'Tricky <RP>',
        redirectUris: [tricky],
        postLogoutRedirectUris: [],
        public: false,
        firstParty: false,
        grantTypes: ['authorization_code'],
        scope: 'openid email',
      },
      TEST_ACTOR,
    );
    const page = await ua.get(`/admin/clients/${client.id}/integration`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h1 id="page-title">Connect Tricky &lt;RP&gt;</h1>');
    expect(page.html).toContain(`<code data-value="issuer">${server().issuer}</code>`);
    expect(page.html).toContain(
      `<code data-value="discovery">${server().issuer}/.well-known/openid-configuration</code>`,
    );
    expect(page.html).toContain(`<code data-value="client-id">${client.id}</code>`);
    expect(page.html).toContain('https://rp.example/cb?q=&#34;x&#34;&amp;y=&lt;b&gt;\\');
    expect(page.html).not.toContain('<b>');
    expect(page.html).not.toContain(clientSecret);
    const quoted = JSON.stringify(tricky);
    for (const id of SNIPPETS) {
      const snippet = snippetOn(page.html, id);
      expect(snippet).not.toContain(clientSecret);
      expect(snippet).toContain(id === 'mod_auth_openidc' ? `"${client.id}"` : JSON.stringify(client.id));
      // Every snippet but ASP.NET's (which takes the callback's path) names the redirect URI, quoted for its language.
      if (id === 'mod_auth_openidc')
        expect(snippet).toContain('OIDCRedirectURI "https://rp.example/cb?q=\\"x\\"&y=<b>\\\\"');
      else if (id !== 'aspnetcore') expect(snippet).toContain(quoted);
    }
    expect(snippetOn(page.html, 'openid-client')).toContain(
      'client.ClientSecretBasic(process.env.GATEHOUSE_CLIENT_SECRET)',
    );
    expect(snippetOn(page.html, 'spring')).toContain('client-secret: "${GATEHOUSE_CLIENT_SECRET}"');
    expect(page.html).toContain('data-snippet-note="oidc-client-ts"');
    expect((await ua.get('/admin/clients/no-such-client/integration')).status).toBe(404);
  });

  it("runs the page's Node snippet (openid-client) against the live server: a user signs in, the ID token's claims come back", async () => {
    const { ua, page } = signedIn;
    const redirectUri = 'http://127.0.0.1:9/signed-in';
    const app = await createApplication(ua, page, 'web', { name: 'Node app', redirect_uris: redirectUri });
    const snippet = snippetOn((await ua.get(`/admin/clients/${app.clientId}/integration`)).html, 'openid-client');
    const user = await server().buildUser({ name: 'Nora Node' });
    const visitor = new UserAgent(server().issuer);
    const claims = await runNodeSnippet(snippet, { GATEHOUSE_CLIENT_SECRET: app.clientSecret ?? '' }, async (url) => {
      const trace = await runAuthorization(visitor, url, redirectUri, { ...user, consent: 'allow' });
      return trace.callbackUrl;
    });
    expect(claims).toMatchObject({ sub: user.id, aud: app.clientId, iss: server().issuer });
  });

  it('Try sign-in: the admin registers the test callback, signs in through the client, and sees the ID token', async () => {
    const { ua, page, admin } = signedIn;
    const app = await createApplication(ua, page, 'spa', { name: 'Try SPA', redirect_uris: 'https://try.example/cb' });
    const integration = `/admin/clients/${app.clientId}/integration`;
    const callback = `${server().issuer}/admin/try/callback`;
    // Not registered: the page offers to add it, and starting a sign-in is refused.
    const before = await ua.get(integration);
    expect(before.html).toContain(`/admin/clients/${app.clientId}/try-callback"`);
    expect((await postForm(ua, page, `${integration.replace('/integration', '/try')}`)).status).toBe(400);
    const added = await postForm(ua, page, `/admin/clients/${app.clientId}/try-callback`);
    expect(added.location).toBe(`${server().issuer}${integration}?done=try-callback-added`);
    expect((await clients().find(app.clientId))?.metadata.redirect_uris).toEqual(['https://try.example/cb', callback]);
    const [event] = await server().gatehouse.storage.storage.audit.query({ action: 'client.updated', limit: 1 });
    expect(event?.details).toMatchObject({ client: app.clientId, fields: ['redirectUris'] });

    const start = await postForm(ua, await ua.get(integration), `/admin/clients/${app.clientId}/try`);
    expect(start.status).toBe(303);
    const authorize = new URL(start.location ?? '');
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${server().issuer}/auth`);
    expect(authorize.searchParams.get('redirect_uri')).toBe(callback);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    const trace = await runAuthorization(ua, start.location ?? '', callback, { ...admin, consent: 'allow' });
    const result = await ua.get(trace.callbackUrl);
    expect(result.status).toBe(200);
    expect(result.html).toContain(`<code data-claim="sub">${JSON.stringify(admin.id).replace(/"/g, '&#34;')}</code>`);
    expect(result.html).toContain(`<code data-claim="aud">&#34;${app.clientId}&#34;</code>`);
    // Once: the same callback again redeems nothing; nor does another admin's session, nor a made-up state.
    expect((await ua.get(trace.callbackUrl)).status).toBe(400);
    const again = await postForm(ua, await ua.get(integration), `/admin/clients/${app.clientId}/try`);
    const other = await signInAdmin(server());
    const stranger = await runAuthorization(ua, again.location ?? '', callback, { ...admin, consent: 'allow' });
    const refused = await other.ua.get(stranger.callbackUrl);
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('data-try-not-found');
    expect(refused.html).not.toContain(new URL(stranger.callbackUrl).searchParams.get('code'));
  });

  it('Try sign-in of a confidential client asks for its secret and reports a wrong one', async () => {
    const { ua, page, admin } = signedIn;
    const app = await createApplication(ua, page, 'web', { name: 'Try web', redirect_uris: 'https://web.example/cb' });
    await postForm(ua, page, `/admin/clients/${app.clientId}/try-callback`);
    const callback = `${server().issuer}/admin/try/callback`;
    const tryWith = async (secret: string): Promise<Page> => {
      const integration = await ua.get(`/admin/clients/${app.clientId}/integration`);
      expect(integration.html).toContain('name="client_secret"');
      const start = await postForm(ua, integration, `/admin/clients/${app.clientId}/try`, { client_secret: secret });
      if (start.status !== 303) return start;
      const trace = await runAuthorization(ua, start.location ?? '', callback, { ...admin, consent: 'allow' });
      return ua.get(trace.callbackUrl);
    };
    const missing = await tryWith('');
    expect(missing.status).toBe(400);
    expect(missing.html).toContain('id="f-client_secret-error"');
    expect((await tryWith('not-the-secret')).html).toContain('data-try-error="invalid_client"');
    expect((await tryWith(app.clientSecret ?? '')).html).toContain(
      `<code data-claim="sub">&#34;${admin.id}&#34;</code>`,
    );
  });
});
