import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get as httpGet, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { UserProfile } from 'oidc-client-ts';
import { HTTP_BACKENDS } from '../helpers/backends.js';
import { launchChromium } from '../helpers/browser.js';
import { BOOT_TIMEOUT, startTestServer, type TestServer } from '../helpers/server.js';
import { freePort } from '../helpers/ports.js';
import { createApplication, snippetOn } from '../helpers/integration-page.js';
import { signInAdmin, type SignedInAdmin } from '../integration/admin-console/support.js';

/**
 * The integration page's snippets run as people would run them (issue 21): the text is taken
 * from the rendered page, filled in with nothing but what the page tells people to supply (the
 * secret, from the environment), and the relying party signs a user in to the live server.
 */
const backend = HTTP_BACKENDS[0] ?? 'postgres';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';
const OIDC_CLIENT_TS_BUNDLE = join(process.cwd(), 'node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js');

/** A tiny static site on 127.0.0.1:port for the browser relying party: path → [content type, body]. */
async function serveStatic(port: number, files: Record<string, [string, string]>): Promise<Server> {
  const server = createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://x').pathname];
    res.writeHead(file ? 200 : 404, { 'content-type': file?.[0] ?? 'text/plain' }).end(file?.[1] ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

/** Polls until a relying party's server answers on its port (or exits: then its log says why). */
async function untilListening(
  origin: string,
  exited: () => boolean,
  log: () => string,
  name = 'apache2',
): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (exited()) throw new Error(`${name} exited:\n${log()}`);
    const up = await fetch(`${origin}/`).then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name} did not start:\n${log()}`);
}

/**
 * Debian's Python with Debian's python3-authlib, python3-flask and python3-requests (PyPI is not
 * reachable here; .ci/run installs them): another python3 earlier on PATH may lack them.
 */
const PYTHON = '/usr/bin/python3';

/**
 * Serves the snippet's app.py with Flask's development server. What the snippet leaves to the
 * application, how a refused token request is shown, is added here: Authlib raises OAuthError,
 * answered as JSON so the test can read the OAuth error.
 */
const FLASK_RUNNER = `import sys

from authlib.integrations.base_client import OAuthError

from app import app


@app.errorhandler(OAuthError)
def refused(error):
    return {"error": error.error, "error_description": error.description}, 401


app.run(host="127.0.0.1", port=int(sys.argv[1]))
`;

interface RunningProcess {
  stop(): Promise<void>;
  log(): string;
}

/** Starts the Flask app in dir on 127.0.0.1:port, with the client secret it reads from the environment. */
async function startFlask(dir: string, port: number, clientSecret: string): Promise<RunningProcess> {
  const flask = spawn(PYTHON, ['serve.py', String(port)], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      PYTHONDONTWRITEBYTECODE: '1',
      GATEHOUSE_CLIENT_SECRET: clientSecret,
      FLASK_SECRET_KEY: 'a session key only this test knows, long enough',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  flask.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  flask.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => flask.once('exit', resolve));
  const running: RunningProcess = {
    log: () => output,
    stop: async () => {
      if (flask.exitCode === null) flask.kill('SIGTERM');
      await exited;
    },
  };
  try {
    await untilListening(`http://127.0.0.1:${port}`, () => flask.exitCode !== null, running.log, 'flask');
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}

/** On Gatehouse's sign-in page: the password, then "Allow" on the consent page (the presets are third-party). */
async function signInAndAllow(page: Page, user: { email: string; password: string }): Promise<void> {
  await page.waitForURL(/\/interaction\//);
  await page.getByLabel('Email address').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
}

describe(`integration page snippets against a live server (${backend})`, () => {
  let server: TestServer;
  let admin: SignedInAdmin;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startTestServer(backend), launchChromium()]);
    admin = await signInAdmin(server);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const snippetOf = async (clientId: string, id: string) =>
    snippetOn((await admin.ua.get(`/admin/clients/${clientId}/integration`)).html, id);

  it('oidc-client-ts: the browser snippet signs a user in to a single-page app in Chromium', async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const app = await createApplication(admin.ua, admin.page, 'spa', {
      name: 'Browser app',
      redirect_uris: `${origin}/callback.html`,
    });
    const snippet = await snippetOf(app.clientId, 'oidc-client-ts');
    // The page imports the package by name, as a bundler would resolve it: an import map to its browser bundle.
    const head = `<script type="importmap">{"imports":{"oidc-client-ts":"/oidc-client-ts.js"}}</script>
<script src="/oidc-client-ts.min.js"></script>`;
    const site = await serveStatic(port, {
      '/oidc-client-ts.min.js': ['text/javascript', readFileSync(OIDC_CLIENT_TS_BUNDLE, 'utf8')],
      '/oidc-client-ts.js': ['text/javascript', 'const { UserManager } = globalThis.oidc;\nexport { UserManager };\n'],
      '/auth.js': ['text/javascript', snippet],
      '/index.html': [
        'text/html',
        `<!doctype html><title>App</title>${head}
<script type="module">import { userManager } from '/auth.js'; await userManager.signinRedirect();</script>`,
      ],
      '/callback.html': [
        'text/html',
        `<!doctype html><title>Signed in</title>${head}
<script type="module">import { userManager } from '/auth.js';
const out = document.getElementById('profile');
userManager.signinRedirectCallback().then((user) => { out.textContent = JSON.stringify(user.profile); },
  (error) => { out.textContent = 'error: ' + error.message; });</script><pre id="profile"></pre>`,
      ],
    });
    const user = await server.buildUser({ name: 'Bea Browser' });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/index.html`);
      await signInAndAllow(page, user);
      await page.waitForURL(`${origin}/callback.html**`);
      const profile = page.locator('#profile');
      await profile.filter({ hasText: /\S/ }).waitFor();
      const text = (await profile.textContent()) ?? '';
      expect(text).not.toMatch(/^error/);
      const claims = JSON.parse(text) as UserProfile;
      expect(claims).toMatchObject({ sub: user.id, aud: app.clientId, iss: server.issuer });
    } finally {
      await context.close();
      site.closeAllConnections();
      await new Promise((resolve) => site.close(resolve));
    }
  });

  it('mod_auth_openidc: Apache, configured with the snippet, serves its protected page to the signed-in user', async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const redirectUri = `${origin}/protected/redirect_uri`;
    const app = await createApplication(admin.ua, admin.page, 'web', {
      name: 'Apache site',
      redirect_uris: redirectUri,
    });
    const snippet = await snippetOf(app.clientId, 'mod_auth_openidc');
    expect(snippet).toContain('<Location "/protected">');

    const dir = mkdtempSync(join(tmpdir(), 'gh-apache-'));
    mkdirSync(join(dir, 'htdocs', 'protected'), { recursive: true });
    writeFileSync(
      join(dir, 'htdocs', 'protected', 'index.html'),
      '<p id="sub"><!--#echo var="OIDC_CLAIM_sub" --></p><p id="email"><!--#echo var="OIDC_CLAIM_email" --></p>\n',
    );
    // Apache, started as root, serves as nobody: the files must be readable by it.
    chmodSync(dir, 0o755);
    const asRoot = process.getuid?.() === 0;
    const modules = ['mpm_event', 'authn_core', 'authz_core', 'authz_user', 'mime', 'include', 'auth_openidc'];
    writeFileSync(
      join(dir, 'httpd.conf'),
      [
        `ServerRoot "${dir}"`,
        'ServerName 127.0.0.1',
        `Listen 127.0.0.1:${port}`,
        `PidFile "${dir}/httpd.pid"`,
        `DefaultRuntimeDir "${dir}"`,
        `ErrorLog "${dir}/error.log"`,
        // One process (-X): a browser's idle keep-alive connection must not hold the next request.
        'KeepAlive Off',
        ...(asRoot ? ['User nobody', 'Group nogroup'] : []),
        ...modules.map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
        'TypesConfig /dev/null',
        `DocumentRoot "${dir}/htdocs"`,
        `<Directory "${dir}/htdocs">`,
        '  Options +Includes',
        '  AddOutputFilter INCLUDES .html',
        '  Require all granted',
        '</Directory>',
        '# The integration page, as copied:',
        snippet,
      ].join('\n'),
    );
    const apache = spawn(APACHE, ['-X', '-f', join(dir, 'httpd.conf')], {
      env: {
        PATH: process.env.PATH ?? '',
        GATEHOUSE_CLIENT_SECRET: app.clientSecret ?? '',
        OIDC_CRYPTO_PASSPHRASE: 'a passphrase only this test knows, long enough',
      },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => apache.once('exit', resolve));
    const errorLog = () => {
      try {
        return readFileSync(join(dir, 'error.log'), 'utf8');
      } catch {
        return '(no error log)';
      }
    };
    try {
      await untilListening(origin, () => apache.exitCode !== null, errorLog);
      const user = await server.buildUser({ name: 'Abe Apache' });
      // A browser: mod_auth_openidc signs in only a navigation (fetch() says "Sec-Fetch-Mode: cors" and gets 401).
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${origin}/protected/index.html`);
        await signInAndAllow(page, user);
        // mod_auth_openidc redeemed the code (its PKCE verifier, the secret) and went back to the page.
        await page.waitForURL(`${origin}/protected/index.html`);
        expect(await page.locator('#sub').textContent()).toBe(user.id);
        expect(await page.locator('#email').textContent()).toBe(user.email);
        // Without the session cookie: sent to Gatehouse to sign in, not served.
        const anonymous = await new Promise<IncomingMessage>((resolve, reject) =>
          httpGet(`${origin}/protected/index.html`, { headers: { accept: 'text/html' } }, resolve).on('error', reject),
        );
        anonymous.resume();
        expect(anonymous.statusCode).toBe(302);
        expect(anonymous.headers.location).toMatch(new RegExp(`^${server.issuer}/auth\\?`));
      } finally {
        await context.close();
      }
    } catch (error) {
      throw new Error(`${String(error)}\n--- apache error log ---\n${errorLog()}`, { cause: error });
    } finally {
      apache.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Authlib: the Flask app from the snippet signs a user in (discovery, code + PKCE) and a wrong secret gets invalid_client', async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const app = await createApplication(admin.ua, admin.page, 'web', {
      name: 'Flask app',
      redirect_uris: `${origin}/callback`,
    });
    const snippet = await snippetOf(app.clientId, 'authlib');
    const dir = mkdtempSync(join(tmpdir(), 'gh-authlib-'));
    writeFileSync(join(dir, 'app.py'), snippet);
    writeFileSync(join(dir, 'serve.py'), FLASK_RUNNER);
    const { authorization_endpoint } = (await (
      await fetch(`${server.issuer}/.well-known/openid-configuration`)
    ).json()) as {
      authorization_endpoint: string;
    };
    /** Signs a new user in through the app's /login; returns the authorization request and the callback's answer. */
    const signIn = async (name: string) => {
      const user = await server.buildUser({ name });
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const authorization = page.waitForRequest((request) => request.url().startsWith(`${authorization_endpoint}?`));
        await page.goto(`${origin}/login`);
        const authorizationUrl = new URL((await authorization).url());
        const answered = page.waitForResponse((response) => response.url().startsWith(`${origin}/callback?`));
        await signInAndAllow(page, user);
        const callback = await answered;
        return {
          user,
          authorizationUrl,
          status: callback.status(),
          body: (await callback.json()) as Record<string, unknown>,
        };
      } finally {
        await context.close();
      }
    };

    let flask: RunningProcess | undefined;
    try {
      // Authlib read the discovery document (its authorization endpoint) and sent a code request with S256 PKCE.
      flask = await startFlask(dir, port, app.clientSecret ?? '');
      const signedIn = await signIn('Fay Flask');
      const params = Object.fromEntries(signedIn.authorizationUrl.searchParams);
      expect(params).toMatchObject({
        client_id: app.clientId,
        response_type: 'code',
        redirect_uri: `${origin}/callback`,
        code_challenge_method: 'S256',
      });
      expect(params.code_challenge).toMatch(/^[\w-]{43}$/);
      expect(params.nonce).toBeTruthy();
      // It redeemed the code with the secret and its verifier, and checked the ID token (signature, nonce).
      expect(signedIn.status).toBe(200);
      expect(signedIn.body).toMatchObject({
        sub: signedIn.user.id,
        aud: app.clientId,
        iss: server.issuer,
        nonce: params.nonce,
      });
      await flask.stop();

      // The same app with a wrong secret: the token request is refused.
      flask = await startFlask(dir, port, 'not-the-secret');
      const refused = await signIn('Rex Refused');
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error: 'invalid_client' });
    } catch (error) {
      throw new Error(`${String(error)}\n--- flask output ---\n${flask?.log() ?? ''}`, { cause: error });
    } finally {
      await flask?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
