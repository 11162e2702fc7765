import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { oidc } from '../../helpers/rp.js';
import { csrfToken, type Page } from '../../helpers/user-agent.js';
import {
  UserAgent,
  actionOf,
  autoSubmitForm,
  buildRp,
  follow,
  openAuthorization,
  pageKind,
  paramsOf,
  signIn,
  submitLogin,
  type TestRp,
} from '../../helpers/sessions.js';

/** A UserAgent that keeps every response it saw, to check headers across a whole flow. */
class RecordingUserAgent extends UserAgent {
  readonly seen: Array<Page & { method: string }> = [];

  override async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Page> {
    const page = await super.request(url, init);
    this.seen.push({ ...page, method: init.method ?? (init.form ? 'POST' : 'GET') });
    return page;
  }
}

function expectSecurityHeaders(page: Page): void {
  const csp = page.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  // Never a policy that sends our URLs (with interaction uids) to other sites.
  expect(['no-referrer', 'same-origin']).toContain(page.headers.get('referrer-policy'));
  expect(page.headers.get('x-frame-options')).toBe('DENY');
}

const htmlPages = (ua: RecordingUserAgent) =>
  ua.seen.filter((p) => p.headers.get('content-type')?.startsWith('text/html'));

describe.each(HTTP_BACKENDS)('HTTP hardening of the sign-in pages (%s)', (backend) => {
  let firstParty: TestRp;
  let thirdParty: TestRp;
  const server = useSharedTestServer(backend);
  beforeAll(async () => {
    firstParty = await buildRp(server);
    thirdParty = await buildRp(server, { name: 'Hardening RP', firstParty: false });
  });

  it('answers every credential-carrying POST with 303 See Other', async () => {
    const user = await server.buildUser();
    const ua = new RecordingUserAgent(server.issuer);

    const { page } = await openAuthorization(ua, thirdParty, server.issuer);
    const login = await submitLogin(ua, page, user.email, user.password);
    expect(login.status).toBe(303);
    const consentPage = await follow(ua, login.location ?? '', server.issuer);
    const allow = await ua.post(actionOf(consentPage, '/consent'), {
      csrf: csrfToken(consentPage.html),
      decision: 'allow',
    });
    expect(allow.status).toBe(303);

    const other = await buildRp(server, { name: 'Denied RP', firstParty: false });
    const denyPage = (await openAuthorization(ua, other, server.issuer)).page;
    const deny = await ua.post(actionOf(denyPage, '/consent'), { csrf: csrfToken(denyPage.html), decision: 'deny' });
    expect(deny.status).toBe(303);

    const choose = (await openAuthorization(ua, firstParty, server.issuer, { prompt: 'select_account' })).page;
    const chosen = await ua.post(actionOf(choose, '/select-account'), {
      csrf: csrfToken(choose.html),
      action: 'continue',
    });
    expect(chosen.status).toBe(303);

    const abortPage = (await openAuthorization(new UserAgent(server.issuer), firstParty, server.issuer)).page;
    const fresh = new RecordingUserAgent(server.issuer);
    const cancel = (await openAuthorization(fresh, firstParty, server.issuer)).page;
    const aborted = await fresh.post(actionOf(cancel, '/abort'), { csrf: csrfToken(cancel.html) });
    expect(aborted.status).toBe(303);
    expect(paramsOf((await fresh.get(aborted.location ?? '')).location).error).toBe('access_denied');
    expect(pageKind(abortPage)).toBe('login');

    const posts = [...ua.seen, ...fresh.seen].filter((p) => p.method === 'POST');
    expect(posts.length).toBeGreaterThanOrEqual(5);
    for (const post of posts) expect(post.status).toBe(303);
  });

  it('sends the security headers on every HTML page and no-store on interaction pages', async () => {
    const user = await server.buildUser({ name: 'Header Checker' });
    const other = await server.buildUser();
    const ua = new RecordingUserAgent(server.issuer);

    const { page } = await openAuthorization(ua, thirdParty, server.issuer, { login_hint: user.email });
    await submitLogin(ua, page, user.email, 'wrong password'); // the 401 page
    await signIn(ua, thirdParty, user, {}, { consent: 'allow' });
    await openAuthorization(ua, firstParty, server.issuer, { prompt: 'select_account' });
    // Another account signing in makes oidc-provider answer with its self-submitting form.
    const switching = await openAuthorization(ua, firstParty, server.issuer, { prompt: 'login' });
    const switched = await submitLogin(ua, switching.page, other.email, other.password);
    const resumed = await ua.get(switched.location ?? '');
    const auto = autoSubmitForm(resumed);
    expect(auto).toBeDefined();
    await follow(ua, switched.location ?? '', server.issuer);
    const tokens = await signIn(ua, firstParty, other);
    const confirm = await ua.get(
      oidc.buildEndSessionUrl(firstParty.config, { id_token_hint: tokens.tokens.id_token ?? '' }).toString(),
    );
    expect(confirm.status).toBe(200);
    await ua.get('/interaction/not-a-real-interaction');
    await ua.get('/no/such/page');
    await ua.get(
      `/auth?client_id=unknown&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(firstParty.client.redirectUri)}`,
    );
    await ua.get('/session/end/success');

    const pages = htmlPages(ua);
    const paths = new Set(
      pages.map((p) =>
        new URL(p.url).pathname
          .replace(/\/interaction\/[^/]+/, '/interaction/:uid')
          .replace(/\/auth\/[^/]+/, '/auth/:uid'),
      ),
    );
    expect([...paths]).toEqual(
      expect.arrayContaining([
        '/interaction/:uid',
        '/interaction/:uid/login',
        '/auth/:uid',
        '/session/end',
        '/no/such/page',
        '/auth',
        '/session/end/success',
      ]),
    );
    const statuses = new Set(pages.map((p) => p.status));
    expect([...statuses]).toEqual(expect.arrayContaining([200, 400, 401, 404]));
    for (const shown of pages) expectSecurityHeaders(shown);

    const interactionPages = pages.filter((p) => new URL(p.url).pathname.startsWith('/interaction/'));
    expect(interactionPages.map(pageKind)).toEqual(expect.arrayContaining(['login', 'consent', 'select_account']));
    for (const shown of interactionPages) {
      expect(shown.headers.get('cache-control')).toBe('no-store');
    }
    // The self-submitting form's inline script is allowed by its hash, not by 'unsafe-inline'.
    expect(resumed.headers.get('content-security-policy')).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    for (const p of [confirm, resumed]) expect(p.headers.get('cache-control')).toMatch(/no-store/);
  });

  it("limits form-action to 'self', plus the client's registered target on the pages of its sign-in and logout", async () => {
    const formAction = (page: Page) =>
      /(?:^|;\s*)form-action ([^;]*)/.exec(page.headers.get('content-security-policy') ?? '')?.[1];
    const rpOrigin = new URL(firstParty.client.redirectUri).origin;
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);

    // Pages of no sign-in: our own origin only.
    expect(formAction(await ua.get('/password/forgot'))).toBe("'self'");
    expect(formAction(await ua.get('/no/such/page'))).toBe("'self'");
    // An error page about a redirect_uri the client never registered does not allow it.
    const foreign = await ua.get(
      `/auth?client_id=${firstParty.client.clientId}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
    );
    expect(foreign.status).toBe(400);
    expect(formAction(foreign)).toBe("'self'");

    // A sign-in step: its form's redirect chain ends at the client (CSP 3 §6.4.1; Chromium checks redirects).
    const { page } = await openAuthorization(ua, firstParty, server.issuer);
    expect(pageKind(page)).toBe('login');
    expect(formAction(page)).toBe(`'self' ${rpOrigin}`);
    const failed = await submitLogin(ua, page, user.email, 'wrong password');
    expect(formAction(failed)).toBe(`'self' ${rpOrigin}`);
    const { tokens } = await signIn(ua, firstParty, user);

    // oidc-provider's form_post page posts to the redirect_uri itself, its script allowed by hash.
    const formPost = await openAuthorization(ua, firstParty, server.issuer, { response_mode: 'form_post' });
    expect(autoSubmitForm(formPost.page)?.action).toBe(firstParty.client.redirectUri);
    expect(formAction(formPost.page)).toBe(`'self' ${rpOrigin}`);
    expect(formPost.page.headers.get('content-security-policy')).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);

    // The logout confirmation posts to us, then is redirected to the post_logout_redirect_uri.
    const withTarget = await ua.get(
      oidc
        .buildEndSessionUrl(firstParty.config, {
          id_token_hint: tokens.id_token ?? '',
          post_logout_redirect_uri: 'http://127.0.0.1:9999/logged-out',
        })
        .toString(),
    );
    expect(withTarget.status).toBe(200);
    expect(formAction(withTarget)).toBe(`'self' ${rpOrigin}`);
    const without = await ua.get(
      oidc.buildEndSessionUrl(firstParty.config, { id_token_hint: tokens.id_token ?? '' }).toString(),
    );
    expect(without.status).toBe(200);
    expect(formAction(without)).toBe("'self'");
  });

  it('marks every cookie it sets HttpOnly and SameSite=Lax', async () => {
    const user = await server.buildUser();
    const ua = new RecordingUserAgent(server.issuer);
    const { tokens } = await signIn(ua, thirdParty, user, {}, { consent: 'allow' });
    await signIn(ua, thirdParty, user, { prompt: 'login' });
    await ua.get(oidc.buildEndSessionUrl(thirdParty.config, { id_token_hint: tokens.id_token ?? '' }).toString());

    const cookies = ua.seen.flatMap((p) => p.headers.getSetCookie());
    const names = new Set(cookies.map((c) => c.split('=')[0]));
    expect([...names]).toEqual(expect.arrayContaining(['gh_session', 'gh_interaction', 'gh_interaction_resume']));
    for (const cookie of cookies) {
      const attrs = cookie
        .split(';')
        .slice(1)
        .map((a) => a.trim().toLowerCase());
      expect(attrs).toContain('httponly');
      expect(attrs).toContain('samesite=lax');
      // Plain http on loopback in tests; Secure comes with an https issuer.
      expect(attrs).not.toContain('secure');
    }
    const session = cookies.find((c) => c.startsWith('gh_session=') && !/expires=Thu, 01 Jan 1970/i.test(c)) ?? '';
    expect(session.toLowerCase()).toContain('path=/;');
    const interaction = cookies.find((c) => c.startsWith('gh_interaction=')) ?? '';
    expect(interaction).toMatch(/path=\/interaction\/[^;]+/i);
  });
});
