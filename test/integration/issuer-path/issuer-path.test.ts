import { hashClientSecret } from '../../../src/clients/client-secret.js';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startMailCatcher, type MailCatcher } from '../../helpers/mail-catcher.js';
import { BOOT_TIMEOUT, logoutForm } from '../../helpers/sessions.js';
import { OFFLINE, basicAuthorization, refreshTokenOf, signIn } from '../../helpers/tokens.js';
import { buildAuthRequest, discoverRp, oidc } from '../../helpers/rp.js';
import { UserAgent, csrfToken, formAction, type Page } from '../../helpers/user-agent.js';
import { openAccountPage } from '../../helpers/account-pages.js';
import { buildConsoleUser, openConsole } from '../admin-console/support.js';
import { TEST_ACTOR } from '../../helpers/factories.js';

/**
 * An issuer with a path prefix (docs/decisions.md, "The issuer may have a path prefix"):
 * everything Gatehouse serves lives under it, every URL it hands out carries it, and nothing
 * answers outside it.
 */
const PREFIX = '/id';

/** Every path a page links to, posts to, loads or calls (href, action, src, data-options/verify/reauth). */
function pathsOn(page: Page): string[] {
  const re = /\b(?:href|action|src|data-options|data-verify|data-reauth)="(\/[^"]*)"/g;
  return [...page.html.matchAll(re)].map((m) => m[1] ?? '');
}

function expectAllUnderPrefix(page: Page): void {
  const paths = pathsOn(page);
  expect(paths.length).toBeGreaterThan(0);
  expect(paths.filter((path) => !path.startsWith(`${PREFIX}/`))).toEqual([]);
}

function originOf(server: TestServer): string {
  return new URL(server.issuer).origin;
}

describe.each(HTTP_BACKENDS)('an issuer with a path prefix (%s)', (backend) => {
  let server: TestServer;
  let mail: MailCatcher;
  beforeAll(async () => {
    mail = await startMailCatcher();
    server = await startTestServer(
      backend,
      { mail: { smtpUrl: mail.url, from: 'Gatehouse <no-reply@example.test>' } },
      { issuerPath: PREFIX },
    );
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
    await mail?.close();
  });

  it('announces the prefixed issuer and endpoints in discovery, answered under the prefix', async () => {
    expect(server.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/id$/);
    const res = await fetch(`${server.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const metadata = (await res.json()) as Record<string, unknown>;
    expect(metadata.issuer).toBe(server.issuer);
    for (const name of [
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
      'end_session_endpoint',
      'introspection_endpoint',
    ]) {
      expect({ name, url: metadata[name] }).toEqual({
        name,
        url: expect.stringMatching(new RegExp(`^${server.issuer}/`)),
      });
    }
    const jwks = await fetch(String(metadata.jwks_uri));
    expect(jwks.status).toBe(200);
  });

  it('signs in with authorization code + PKCE, refreshes and reads userinfo through the prefix (openid-client)', async () => {
    const { tokens, rp, user, ua, client } = await signIn(server, { params: OFFLINE });
    const claims = tokens.claims();
    expect(claims?.iss).toBe(server.issuer);
    const refreshed = await oidc.refreshTokenGrant(rp, refreshTokenOf(tokens));
    expect(refreshed.access_token).toEqual(expect.any(String));
    const info = await oidc.fetchUserInfo(rp, refreshed.access_token, String(claims?.sub));
    expect(info.email).toBe(user.email);
    // RP-initiated logout: the provider's confirmation form posts under the prefix, and the session ends.
    const confirmation = await ua.get(oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token ?? '' }).toString());
    const form = logoutForm(confirmation);
    expect(form.action).toBe(`${server.issuer}/session/end/confirm`);
    const ended = await ua.post(form.action, { xsrf: form.xsrf, logout: 'yes' });
    expect(ended.status).toBe(303);
    const again = await ua.get((await buildAuthRequest(rp, client.redirectUri)).url);
    expect(again.location).toMatch(new RegExp(`^${server.issuer}/interaction/`));
    expect(await ua.get(again.location ?? '').then((page) => page.html)).toContain('name="password"');
  });

  it('serves the sign-in pages under the prefix, every link and form of them included', async () => {
    const client = await server.buildClient();
    const rp = await discoverRp(server.issuer, client);
    const request = await buildAuthRequest(rp, client.redirectUri);
    const ua = new UserAgent(server.issuer);
    const started = await ua.get(request.url);
    expect(started.location).toMatch(new RegExp(`^${server.issuer}/interaction/`));
    const login = await ua.get(started.location ?? '');
    expect(login.status).toBe(200);
    expectAllUnderPrefix(login);
    expect(formAction(login.html, '/login')).toMatch(/^\/id\/interaction\//);
  });

  it('serves /account under the prefix: sign-in, cookies and every link of the page', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password, undefined, `${PREFIX}/account`);
    expect(page.url).toBe(`${server.issuer}/account`);
    expectAllUnderPrefix(page);
    expect(formAction(page.html, '/account/password')).toBe(`${PREFIX}/account/password`);
    // Signing out: a redirect of ours, under the prefix.
    const out = await ua.post(formAction(page.html, '/account/logout') ?? '', { csrf: csrfToken(page.html) });
    expect(out.location).toBe(`${server.issuer}/account/signed-out`);
    const signedOut = await ua.get(out.location ?? '');
    expect(signedOut.status).toBe(200);
    expectAllUnderPrefix(signedOut);
  });

  it('serves the admin console under the prefix: sign-in and every link of its pages', async () => {
    const admin = await buildConsoleUser(server, { admin: true });
    const ua = new UserAgent(server.issuer);
    const page = await openConsole(ua, admin, `${PREFIX}/admin`);
    expect(page.status).toBe(200);
    expectAllUnderPrefix(page);
    const users = await ua.get(`${PREFIX}/admin/users`);
    expect(users.status).toBe(200);
    expectAllUnderPrefix(users);
    const unprefixed = await ua.get('/admin/users');
    expect(unprefixed.status).toBe(404);
  });

  it('keeps the sign-in providers of /account and the console connections under the prefix', async () => {
    await server.gatehouse.admin.connections.create(
      {
        id: 'corp',
        displayName: 'Corp',
        kind: 'oidc',
        issuer: 'https://corp.example',
        clientId: 'c',
        clientSecret: 's',
      },
      TEST_ACTOR,
    );
    await server.gatehouse.admin.connections.create(
      {
        id: 'other',
        displayName: 'Other',
        kind: 'oidc',
        issuer: 'https://other.example',
        clientId: 'c',
        clientSecret: 's',
      },
      TEST_ACTOR,
    );
    const user = await server.buildUser();
    await server.gatehouse.storage.storage.identities.link({
      connectionId: 'corp',
      subject: 's1',
      userId: user.id,
      email: null,
    });
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password, undefined, `${PREFIX}/account`);
    expect(formAction(page.html, '/identities/corp/unlink')).toBe(`${PREFIX}/account/identities/corp/unlink`);
    expect(formAction(page.html, '/identities/other/link')).toBe(`${PREFIX}/account/identities/other/link`);
    expectAllUnderPrefix(page);
    const unlinked = await ua.post(`${PREFIX}/account/identities/corp/unlink`, { csrf: csrfToken(page.html) });
    expect(unlinked.location).toBe(`${server.issuer}/account?done=identity-unlinked#linked-identities`);

    const admin = await buildConsoleUser(server, { admin: true });
    const consoleUa = new UserAgent(server.issuer);
    await openConsole(consoleUa, admin, `${PREFIX}/admin`);
    for (const path of [
      '/admin/connections',
      '/admin/connections/new',
      '/admin/connections/corp',
      `/admin/users/${user.id}`,
    ]) {
      const shown = await consoleUa.get(`${PREFIX}${path}`);
      expect({ path, status: shown.status }).toEqual({ path, status: 200 });
      expectAllUnderPrefix(shown);
    }
    const edit = await consoleUa.get(`${PREFIX}/admin/connections/corp`);
    expect(edit.html).toContain(`data-redirect-uri>${server.issuer}/federation/corp/callback<`);
  });

  it('mails links under the prefix (password reset), and the link opens its page', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const form = await ua.get(`${PREFIX}/password/forgot`);
    expect(form.status).toBe(200);
    expectAllUnderPrefix(form);
    const action = /<form[^>]*action="([^"]+)"/.exec(form.html)?.[1]?.replace(/&amp;/g, '&');
    expect(action).toBe(`${PREFIX}/password/forgot?ui_locales=en`);
    const sent = await ua.post(action ?? '', { csrf: csrfToken(form.html), email: user.email });
    expect(sent.status).toBe(200);
    const message = await mail.next(user.email);
    const link = message.links.find((l) => l.includes('/password/reset?token='));
    expect(link).toMatch(new RegExp(`^${server.issuer}/password/reset\\?token=`));
    const opened = await ua.get(link ?? '');
    expect(opened.status).toBe(200);
    expectAllUnderPrefix(opened);
  });

  it('answers nothing outside the prefix, the prefix being matched exactly', async () => {
    const origin = originOf(server);
    for (const path of [
      '/.well-known/openid-configuration',
      '/jwks',
      '/account',
      '/admin',
      '/healthz',
      '/assets/style.css',
      '/ID/.well-known/openid-configuration',
      '/idx/jwks',
      '/',
    ]) {
      const res = await fetch(`${origin}${path}`, { redirect: 'manual' });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const token = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(token.status).toBe(404);
    for (const path of ['/healthz', '/readyz', '/assets/style.css']) {
      const res = await fetch(`${server.issuer}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
  });

  it('puts every spelling of a prefixed provider path the provider routes behind the same guard', async () => {
    const client = await server.buildClient({
      grantTypes: ['client_credentials'],
      redirectUris: [],
      postLogoutRedirectUris: [],
      scope: 'openid',
      firstParty: false,
    });
    const secret = String(client.clientSecret);
    const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    for (const spelling of ['/token', '/TOKEN', '/ToKeN', '/token/', '/TOKEN/']) {
      const url = `${server.issuer}${spelling}`;
      const asDigest = await fetch(url, {
        method: 'POST',
        headers: { ...form, authorization: basicAuthorization(client.clientId, hashClientSecret(secret)) },
        body: 'grant_type=client_credentials',
      });
      expect({ spelling, status: asDigest.status }).toEqual({ spelling, status: 401 });
      const asSecret = await fetch(url, {
        method: 'POST',
        headers: { ...form, authorization: basicAuthorization(client.clientId, secret) },
        body: 'grant_type=client_credentials',
      });
      expect({ spelling, status: asSecret.status }).toEqual({ spelling, status: 200 });
    }
    const upperPrefix = await fetch(`${originOf(server)}/ID/token`, {
      method: 'POST',
      headers: { ...form, authorization: basicAuthorization(client.clientId, secret) },
      body: 'grant_type=client_credentials',
    });
    expect(upperPrefix.status).toBe(404);
  });
});
