import { BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { oidc } from '../../helpers/rp.js';
import {
  BOOT_TIMEOUT, UserAgent, alertText, buildRp, errorCode, logoutForm, openAuthorization, paramsOf, signIn, textOf, withoutQuery, type TestRp,
} from '../../helpers/sessions.js';

const POST_LOGOUT = 'http://127.0.0.1:9999/logged-out';

describe.each(BACKENDS)('RP-initiated logout (%s)', (backend) => {
  let server: TestServer;
  let rp: TestRp;
  beforeAll(async () => {
    server = await startTestServer(backend);
    rp = await buildRp(server, { name: 'Logout RP', postLogoutRedirectUris: [POST_LOGOUT] });
  }, BOOT_TIMEOUT);
  afterAll(async () => { await server?.close(); });

  const endSessionUrl = (idToken: string, extra: Record<string, string> = {}) =>
    oidc.buildEndSessionUrl(rp.config, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT, ...extra }).toString();

  it('confirms, signs out and returns to the registered post_logout_redirect_uri', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { tokens } = await signIn(ua, rp, user);

    const confirm = await ua.get(endSessionUrl(tokens.id_token ?? '', { state: 'bye-123' }));
    expect(confirm.status).toBe(200);
    expect(confirm.headers.get('content-type')).toMatch(/^text\/html/);
    expect(textOf(confirm.html)).toContain('Do you want to sign out of Gatehouse and Logout RP?');
    const form = logoutForm(confirm);
    expect(new URL(form.action).pathname).toBe('/session/end/confirm');

    const done = await ua.post(form.action, { xsrf: form.xsrf, logout: 'yes' });
    expect(done.status).toBe(303);
    expect(withoutQuery(done.location)).toBe(POST_LOGOUT);
    expect(paramsOf(done.location)).toEqual({ state: 'bye-123' });
    expect([...ua.cookies.keys()]).not.toContain('gh_session');

    const silent = await openAuthorization(ua, rp, server.issuer, { prompt: 'none' });
    expect(paramsOf(silent.page.location).error).toBe('login_required');
    // The grant of the signed-out session is revoked with it.
    await expect(oidc.fetchUserInfo(rp.config, tokens.access_token, user.id)).rejects.toMatchObject({ status: 401 });
  });

  it('keeps the Gatehouse session when the user answers no', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { tokens } = await signIn(ua, rp, user);
    const form = logoutForm(await ua.get(endSessionUrl(tokens.id_token ?? '')));
    const done = await ua.post(form.action, { xsrf: form.xsrf });
    expect(done.status).toBe(303);
    expect(withoutQuery(done.location)).toBe(POST_LOGOUT);

    const silent = await openAuthorization(ua, rp, server.issuer, { prompt: 'none' });
    expect(paramsOf(silent.page.location).code).toEqual(expect.any(String));
  });

  it('shows the signed-out page when no post_logout_redirect_uri is given', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { tokens } = await signIn(ua, rp, user);
    const confirm = await ua.get(oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token ?? '' }).toString());
    const form = logoutForm(confirm);
    const done = await ua.post(form.action, { xsrf: form.xsrf, logout: 'yes' });
    expect(done.status).toBe(303);
    expect(new URL(done.location ?? '').origin).toBe(server.issuer);
    const page = await ua.get(done.location ?? '');
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('You are signed out');
  });

  it('refuses an unregistered post_logout_redirect_uri with an error page and no redirect', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { tokens } = await signIn(ua, rp, user);
    for (const target of ['https://evil.example/logged-out', `${POST_LOGOUT}/../steal`, `${POST_LOGOUT}?x=1`, 'http://127.0.0.1:9999/callback']) {
      const page = await ua.get(endSessionUrl(tokens.id_token ?? '', { post_logout_redirect_uri: target }));
      expect(page.status).toBe(400);
      expect(page.location).toBeNull();
      expect(errorCode(page.html)).toBe('invalid_request');
      // A plain explanation for the user; the provider's own description as the detail.
      expect(alertText(page.html)).toMatch(/^The application sent a request this service cannot accept/);
      expect(page.html).toContain('<span data-error-detail>post_logout_redirect_uri not registered</span>');
      expect(page.html).not.toContain('op.logoutForm');
    }
    // The session is untouched.
    const silent = await openAuthorization(ua, rp, server.issuer, { prompt: 'none' });
    expect(paramsOf(silent.page.location).code).toEqual(expect.any(String));
  });

  it('refuses a logout confirmation with a wrong or missing xsrf value and keeps the session', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { tokens } = await signIn(ua, rp, user);
    const form = logoutForm(await ua.get(endSessionUrl(tokens.id_token ?? '')));
    for (const xsrf of [undefined, '', `${form.xsrf}x`]) {
      const page = await ua.post(form.action, { ...(xsrf === undefined ? {} : { xsrf }), logout: 'yes' });
      expect(page.status).toBe(400);
      expect(page.location).toBeNull();
      expect(errorCode(page.html)).toBe('invalid_request');
    }
    const silent = await openAuthorization(ua, rp, server.issuer, { prompt: 'none' });
    expect(paramsOf(silent.page.location).code).toEqual(expect.any(String));
  });

  it('refuses an id_token_hint that is not ours', async () => {
    const ua = new UserAgent(server.issuer);
    const forged = [
      Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url'),
      Buffer.from(JSON.stringify({ iss: server.issuer, sub: 'x', aud: rp.client.clientId })).toString('base64url'),
      '',
    ].join('.');
    for (const hint of [forged, 'not-a-jwt', 'a.b.c']) {
      const page = await ua.get(endSessionUrl(hint));
      expect(page.status).toBe(400);
      expect(page.location).toBeNull();
      expect(errorCode(page.html)).toBe('invalid_request');
    }
  });
});
