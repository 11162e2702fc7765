import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { buildAuthRequest, oidc, redeemCode } from '../../helpers/rp.js';
import { csrfToken, runAuthorization } from '../../helpers/user-agent.js';
import { loadCatalogue } from '../../../src/i18n/catalogue.js';
import { createTranslator } from '../../../src/i18n/translator.js';
import { scopeDescription } from '../../../src/web/interaction/steps.js';

const english = createTranslator(loadCatalogue(), 'en');
const scopeText = (scope: string) => scopeDescription(english, scope);
import {
  UserAgent,
  actionOf,
  buildRp,
  errorCode,
  follow,
  openAuthorization,
  pageKind,
  paramsOf,
  signIn,
  submitLogin,
  textOf,
  withoutQuery,
  logOutAtRp,
  type TestRp,
} from '../../helpers/sessions.js';

/** The scopes listed on a consent page, from their data-scope attributes. */
function listedScopes(html: string): string[] {
  return [...html.matchAll(/<li data-scope="([^"]+)">/g)].map((m) => m[1] ?? '');
}

describe.each(HTTP_BACKENDS)('consent step (%s)', (backend) => {
  let thirdParty: TestRp;
  const server = useSharedTestServer(backend);
  beforeAll(async () => {
    thirdParty = await buildRp(server, { name: 'Acme Analytics', firstParty: false });
  });

  const grantsFor = async (userId: string, clientId: string) =>
    (await server.gatehouse.storage.storage.sessions.listGrants(userId)).filter((g) => g.clientId === clientId);

  it('names the client and every requested scope in plain words', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, thirdParty, server.issuer, {
      scope: 'openid profile email offline_access',
      prompt: 'consent',
    });
    const done = await submitLogin(ua, page, user.email, user.password);
    const consent = await follow(ua, done.location ?? '', server.issuer);
    expect(consent.status).toBe(200);
    expect(pageKind(consent)).toBe('consent');
    const text = textOf(consent.html);
    expect(text).toContain('Acme Analytics is asking to:');
    expect(listedScopes(consent.html)).toEqual(['openid', 'profile', 'email', 'offline_access']);
    for (const scope of ['openid', 'profile', 'email', 'offline_access']) {
      expect(text).toContain(scopeText(scope));
    }
    expect(consent.headers.get('cache-control')).toBe('no-store');
    // "You can revoke this access at any time" says where: the list on /account.
    expect(consent.html).toMatch(
      /<a href="\/account#applications">Your account page lists the applications you have allowed<\/a>/,
    );
  });

  it('issues tokens for the granted scopes when the user allows', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { trace, tokens } = await signIn(
      ua,
      thirdParty,
      user,
      { scope: 'openid email offline_access', prompt: 'consent' },
      { consent: 'allow' },
    );
    expect(trace.pages).toEqual(['login', 'consent']);
    expect(trace.postStatuses).toEqual([303, 303]);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'offline_access', 'openid']);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const info = await oidc.fetchUserInfo(thirdParty.config, tokens.access_token, user.id);
    expect(info).toMatchObject({ sub: user.id, email: user.email });
    expect(info.name).toBeUndefined();
    const grants = await grantsFor(user.id, thirdParty.client.clientId);
    expect(grants).toHaveLength(1);
    expect(grants[0]?.scope.split(' ').sort()).toEqual(['email', 'offline_access', 'openid']);
  });

  it('redirects with access_denied and stores no grant when the user denies', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const request = await buildAuthRequest(thirdParty.config, thirdParty.client.redirectUri);
    const trace = await runAuthorization(ua, request.url, thirdParty.client.redirectUri, {
      email: user.email,
      password: user.password,
      consent: 'deny',
    });
    expect(trace.pages).toEqual(['login', 'consent']);
    expect(withoutQuery(trace.callbackUrl)).toBe(thirdParty.client.redirectUri);
    const params = paramsOf(trace.callbackUrl);
    expect(params).toMatchObject({ error: 'access_denied', state: request.state, iss: server.issuer });
    expect(params.code).toBeUndefined();
    expect(await grantsFor(user.id, thirdParty.client.clientId)).toEqual([]);

    // Anything but "allow" is a refusal too.
    const again = await openAuthorization(ua, thirdParty, server.issuer);
    expect(pageKind(again.page)).toBe('consent');
    const odd = await ua.post(actionOf(again.page, '/consent'), {
      csrf: csrfToken(again.page.html),
      decision: 'ALLOW ',
    });
    expect(odd.status).toBe(303);
    const callback = await ua.get(odd.location ?? '');
    expect(paramsOf(callback.location).error).toBe('access_denied');
    expect(await grantsFor(user.id, thirdParty.client.clientId)).toEqual([]);
  });

  it('remembers consent for the same client and scopes, also in a new browser session', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server, { name: 'Remembering RP', firstParty: false });
    const ua = new UserAgent(server.issuer);
    const first = await signIn(ua, rp, user, {}, { consent: 'allow' });
    expect(first.trace.pages).toEqual(['login', 'consent']);

    const sameBrowser = await signIn(ua, rp, user);
    expect(sameBrowser.trace.pages).toEqual([]);
    const newBrowser = await signIn(new UserAgent(server.issuer), rp, user);
    expect(newBrowser.trace.pages).toEqual(['login']);
    expect(newBrowser.tokens.claims()?.sub).toBe(user.id);
    // each browser session has its own grant; the second carries the remembered consent
    const grants = await grantsFor(user.id, rp.client.clientId);
    expect(grants).toHaveLength(2);
    expect(grants.map((g) => g.scope)).toEqual([grants[0]?.scope, grants[0]?.scope]);

    // Consent belongs to this user and this client only.
    const otherUser = await server.buildUser();
    const otherFlow = await signIn(new UserAgent(server.issuer), rp, otherUser, {}, { consent: 'allow' });
    expect(otherFlow.trace.pages).toEqual(['login', 'consent']);
    const otherClient = await buildRp(server, { name: 'Another RP', firstParty: false });
    const otherClientFlow = await signIn(ua, otherClient, user, {}, { consent: 'allow' });
    expect(otherClientFlow.trace.pages).toEqual(['consent']);
  });

  it('remembers consent after the user signs out at the application (RP-initiated logout) and signs in again', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server, { name: 'Logging-out RP', firstParty: false });
    const ua = new UserAgent(server.issuer);
    const first = await signIn(ua, rp, user, { scope: 'openid profile' }, { consent: 'allow' });
    expect(first.trace.pages).toEqual(['login', 'consent']);
    // Logout deletes the session's grant (no offline_access): the consent is kept apart from it.
    await logOutAtRp(ua, rp.config, first.tokens.id_token);
    expect(await grantsFor(user.id, rp.client.clientId)).toEqual([]);

    const again = await signIn(ua, rp, user, { scope: 'openid profile' });
    expect(again.trace.pages).toEqual(['login']);
    expect(again.tokens.scope?.split(' ').sort()).toEqual(['openid', 'profile']);
    // More than was allowed is asked for again, and only that.
    const { page } = await openAuthorization(ua, rp, server.issuer, { scope: 'openid profile email' });
    expect(pageKind(page)).toBe('consent');
    expect(listedScopes(page.html)).toEqual(['email']);
  });

  it('shows a first-party client no consent page, and a new session grants only what it asks for', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server, { name: 'Own app', firstParty: true });
    const first = await signIn(new UserAgent(server.issuer), rp, user, { scope: 'openid profile email' });
    expect(first.trace.pages).toEqual(['login']);
    expect(first.tokens.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);

    // Another browser asks for less: its grant holds that, nothing carried from the first session.
    const second = await signIn(new UserAgent(server.issuer), rp, user, { scope: 'openid email' });
    expect(second.trace.pages).toEqual(['login']);
    expect(second.tokens.scope?.split(' ').sort()).toEqual(['email', 'openid']);
    const grants = await grantsFor(user.id, rp.client.clientId);
    expect(grants.map((g) => g.scope.split(' ').sort()).sort((a, b) => a.length - b.length)).toEqual([
      ['email', 'openid'],
      ['email', 'openid', 'profile'],
    ]);
    const info = await oidc.fetchUserInfo(rp.config, second.tokens.access_token, user.id);
    expect(info).toMatchObject({ sub: user.id, email: user.email });
    expect(info.name).toBeUndefined();
  });

  it('asks only for the scopes not granted yet', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server, { name: 'Growing RP', firstParty: false });
    const ua = new UserAgent(server.issuer);
    await signIn(ua, rp, user, { scope: 'openid profile' }, { consent: 'allow' });

    const { page } = await openAuthorization(ua, rp, server.issuer, { scope: 'openid profile email' });
    expect(pageKind(page)).toBe('consent');
    expect(listedScopes(page.html)).toEqual(['email']);
    expect(textOf(page.html)).toContain(scopeText('email'));
    expect(textOf(page.html)).not.toContain(scopeText('profile'));
  });

  it('answers prompt=none with consent_required before the user has consented', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server, { name: 'Silent RP', firstParty: false });
    const ua = new UserAgent(server.issuer);
    await signIn(ua, await buildRp(server), user);
    const { request, page } = await openAuthorization(ua, rp, server.issuer, { prompt: 'none' });
    expect(paramsOf(page.location)).toMatchObject({ error: 'consent_required', state: request.state });
  });

  it('asks again after the consent is withdrawn, and the revoked tokens stop working', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server, { name: 'Revoked RP', firstParty: false });
    const ua = new UserAgent(server.issuer);
    const { tokens } = await signIn(ua, rp, user, {}, { consent: 'allow' });
    const grants = await grantsFor(user.id, rp.client.clientId);
    expect(grants).toHaveLength(1);

    await server.gatehouse.storage.storage.sessions.revokeConsent(user.id, rp.client.clientId);
    expect(await grantsFor(user.id, rp.client.clientId)).toEqual([]);
    await expect(oidc.fetchUserInfo(rp.config, tokens.access_token, user.id)).rejects.toMatchObject({ status: 401 });

    const sameBrowser = await signIn(ua, rp, user, {}, { consent: 'allow' });
    expect(sameBrowser.trace.pages).toEqual(['consent']);
    await server.gatehouse.storage.storage.sessions.revokeConsent(user.id, rp.client.clientId);
    const newBrowser = await signIn(new UserAgent(server.issuer), rp, user, {}, { consent: 'allow' });
    expect(newBrowser.trace.pages).toEqual(['login', 'consent']);
  });

  it('never shows a consent page to a first-party client, even for prompt=consent', async () => {
    const user = await server.buildUser();
    const firstParty = await buildRp(server, { name: 'Our Own App', firstParty: true });
    const ua = new UserAgent(server.issuer);
    const first = await signIn(ua, firstParty, user, {
      scope: 'openid profile email offline_access',
      prompt: 'consent',
    });
    expect(first.trace.pages).toEqual(['login']);
    expect(first.tokens.refresh_token).toEqual(expect.any(String));
    const again = await signIn(ua, firstParty, user, { prompt: 'consent' });
    expect(again.trace.pages).toEqual([]);
    const silent = await openAuthorization(new UserAgent(server.issuer), firstParty, server.issuer, { prompt: 'none' });
    expect(paramsOf(silent.page.location).error).toBe('login_required');
  });

  it('refuses a consent answer while the pending step is the login', async () => {
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, thirdParty, server.issuer);
    expect(pageKind(page)).toBe('login');
    const consentUrl = actionOf(page, '/login').replace(/\/login$/, '/consent');
    const answer = await ua.post(consentUrl, { csrf: csrfToken(page.html), decision: 'allow' });
    expect(answer.status).toBe(400);
    expect(answer.location).toBeNull();
    expect(errorCode(answer.html)).toBe('invalid_request');
    // The sign-in is still waiting for the login.
    expect(pageKind(await ua.get(page.url))).toBe('login');
  });

  /** A third-party client on `origin` (https), and a new user at its consent page. */
  async function consentPageOf(overrides: Parameters<typeof buildRp>[1]) {
    const user = await server.buildUser({ name: 'Grace Hopper' });
    const rp = await buildRp(server, { firstParty: false, ...overrides });
    const ua = new UserAgent(server.issuer);
    const { request, page } = await openAuthorization(ua, rp, server.issuer);
    const done = await submitLogin(ua, page, user.email, user.password);
    const consent = await follow(ua, done.location ?? '', server.issuer);
    expect(pageKind(consent)).toBe('consent');
    return { user, rp, ua, request, consent };
  }

  const imageSources = (csp: string | null) => /img-src ([^;]*)/.exec(csp ?? '')?.[1]?.split(' ') ?? [];

  it('says who is asking: the logo from the redirect origin, where the user goes back, policy and terms, who is signed in', async () => {
    const { user, consent } = await consentPageOf({
      name: 'Shop',
      redirectUris: ['https://shop.example.test/callback'],
      logoUri: 'https://shop.example.test/static/logo.png',
      policyUri: 'https://shop.example.test/privacy',
      tosUri: 'https://legal.example.test/terms',
    });
    expect(consent.html).toMatch(
      /<img class="asking-logo" src="https:\/\/shop.example.test\/static\/logo.png" alt="" [^>]*referrerpolicy="no-referrer"/,
    );
    // The CSP lets this page, and only it, load images from that one origin.
    expect(imageSources(consent.headers.get('content-security-policy'))).toEqual([
      "'self'",
      'data:',
      'https://shop.example.test',
    ]);
    const text = textOf(consent.html);
    expect(text).toContain('Shop is asking to:');
    expect(consent.html).toContain('data-return-to="shop.example.test"');
    expect(text).toContain('Afterwards you are sent back to shop.example.test.');
    expect(consent.html).toMatch(
      /<a href="https:\/\/shop.example.test\/privacy" target="_blank" rel="noopener noreferrer" data-policy-uri>Privacy policy of Shop/,
    );
    expect(consent.html).toMatch(
      /<a href="https:\/\/legal.example.test\/terms" [^>]*data-tos-uri>Terms of service of Shop/,
    );
    expect(text).toContain(`Signed in as Grace Hopper (${user.email}) · Not you?`);
    // An ordinary page keeps the plain img-src.
    const login = await new UserAgent(server.issuer).get(consent.url);
    expect(imageSources(login.headers.get('content-security-policy'))).toEqual(["'self'", 'data:']);
  });

  it('shows no logo from another origin or over http, and no policy or terms links when none are registered', async () => {
    for (const [redirectUri, logoUri] of [
      ['https://shop2.example.test/callback', 'https://cdn.example.net/shop2.png'],
      ['http://127.0.0.1:9999/callback', 'http://127.0.0.1:9999/logo.png'],
    ] as const) {
      const { consent } = await consentPageOf({ redirectUris: [redirectUri], logoUri });
      expect(consent.html).not.toContain('data-client-logo');
      expect(consent.html).not.toContain(logoUri);
      expect(imageSources(consent.headers.get('content-security-policy'))).toEqual(["'self'", 'data:']);
      expect(consent.html).not.toMatch(/data-(policy|tos)-uri/);
      expect(consent.html).toContain(`data-return-to="${new URL(redirectUri).host}"`);
    }
    // Registering refuses a logo that is not a web URL, or plain http off loopback.
    await expect(buildRp(server, { logoUri: 'javascript:alert(1)' })).rejects.toMatchObject({ field: 'logo_uri' });
    await expect(buildRp(server, { policyUri: 'http://shop.example.test/privacy' })).rejects.toMatchObject({
      field: 'policy_uri',
    });
  });

  it('"Not you?" goes back to the login page, where someone else signs in and consents; the old answer is refused', async () => {
    const { user, ua, rp, request, consent } = await consentPageOf({ name: 'Switchable' });
    const other = await server.buildUser({ name: 'Ada Lovelace' });
    const switchUrl = actionOf(consent, '/switch-account');

    // A forged token changes nothing: the consent page is still the step.
    expect((await ua.post(switchUrl, { csrf: 'forged' })).status).toBe(403);
    expect(pageKind(await ua.get(consent.url))).toBe('consent');

    const switched = await ua.post(switchUrl, { csrf: csrfToken(consent.html) });
    expect(switched.status).toBe(303);
    const login = await follow(ua, switched.location ?? '', server.issuer);
    expect(pageKind(login)).toBe('login');
    // The first person's consent form is no longer the pending step, nor is the switch.
    const stale = await ua.post(actionOf(consent, '/consent'), { csrf: csrfToken(consent.html), decision: 'allow' });
    expect(stale.status).toBe(400);
    expect((await ua.post(switchUrl, { csrf: csrfToken(consent.html) })).status).toBe(400);

    // Ada signs in: the provider ends Grace's session first, then asks Ada for her own consent.
    const done = await submitLogin(ua, login, other.email, other.password);
    const hers = await follow(ua, done.location ?? '', server.issuer);
    expect(pageKind(hers)).toBe('consent');
    expect(textOf(hers.html)).toContain(`Signed in as Ada Lovelace (${other.email})`);
    const allowed = await ua.post(actionOf(hers, '/consent'), { csrf: csrfToken(hers.html), decision: 'allow' });
    const callback = await follow(ua, allowed.location ?? '', server.issuer);
    const tokens = await redeemCode(rp.config, callback.location ?? '', request);
    expect(tokens.claims()?.sub).toBe(other.id);
    expect(await grantsFor(user.id, rp.client.clientId)).toEqual([]);
    expect(await server.gatehouse.storage.storage.sessions.listSessions(user.id)).toEqual([]);
  });

  it('escapes the client name on the consent page', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server, { name: 'Evil <script>alert(1)</script> & Co', firstParty: false });
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    const done = await submitLogin(ua, page, user.email, user.password);
    const consent = await follow(ua, done.location ?? '', server.issuer);
    expect(pageKind(consent)).toBe('consent');
    expect(consent.html).not.toContain('<script>alert(1)</script>');
    expect(textOf(consent.html)).toContain('Evil <script>alert(1)</script> & Co is asking to:');
  });
});
