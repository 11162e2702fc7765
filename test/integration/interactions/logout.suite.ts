import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startLogoutReceiver, verifyLogoutToken } from '../../helpers/logout-receiver.js';
import type { Page } from '../../helpers/user-agent.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { oidc } from '../../helpers/rp.js';
import {
  UserAgent,
  alertText,
  buildRp,
  errorCode,
  logoutForm,
  openAuthorization,
  paramsOf,
  signIn,
  textOf,
  withoutQuery,
  type TestRp,
} from '../../helpers/sessions.js';

const POST_LOGOUT = 'http://127.0.0.1:9999/logged-out';

describe.each(HTTP_BACKENDS)('RP-initiated logout (%s)', (backend) => {
  let rp: TestRp;
  const server = useSharedTestServer(backend);
  beforeAll(async () => {
    rp = await buildRp(server, { name: 'Logout RP', postLogoutRedirectUris: [POST_LOGOUT] });
  });

  const endSessionUrl = (idToken: string, extra: Record<string, string> = {}) =>
    oidc
      .buildEndSessionUrl(rp.config, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT, ...extra })
      .toString();
  /** A logout request with no id_token_hint (openid-client names the client with client_id): always the question. */
  const unhintedEndSessionUrl = (extra: Record<string, string> = {}) =>
    oidc.buildEndSessionUrl(rp.config, { post_logout_redirect_uri: POST_LOGOUT, ...extra }).toString();

  it('confirms, signs out and returns to the registered post_logout_redirect_uri', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { tokens } = await signIn(ua, rp, user);

    const confirm = await ua.get(unhintedEndSessionUrl({ state: 'bye-123' }));
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
    await signIn(ua, rp, user);
    const form = logoutForm(await ua.get(unhintedEndSessionUrl()));
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
    const confirm = await ua.get(
      oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token ?? '' }).toString(),
    );
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
    for (const target of [
      'https://evil.example/logged-out',
      `${POST_LOGOUT}/../steal`,
      `${POST_LOGOUT}?x=1`,
      'http://127.0.0.1:9999/callback',
    ]) {
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

  // RP-Initiated Logout 1.0 §2: the question is asked only when the hint is missing or not of
  // the current session (issue 15 item 4; docs/decisions.md).
  describe('with an id_token_hint of the current session and a registered post_logout_redirect_uri', () => {
    /** What the page's script does in a browser: post the provider's form with its fields. */
    function autoSubmitted(page: Page): { action: string; fields: Record<string, string> } {
      const { action, xsrf } = logoutForm(page);
      expect(page.html).toContain('<input type="hidden" name="logout" value="yes" form="op.logoutForm">');
      return { action, fields: { xsrf, logout: 'yes' } };
    }

    it('asks nothing: the page posts the confirmation itself, which returns to the RP with state and ends the session', async () => {
      const receiver = await startLogoutReceiver();
      try {
        const hinted = await buildRp(server, {
          name: 'Hinted RP',
          postLogoutRedirectUris: [POST_LOGOUT],
          backchannelLogoutUri: receiver.uri,
          backchannelLogoutSessionRequired: true,
        });
        const user = await server.buildUser();
        const ua = new UserAgent(server.issuer);
        const { tokens } = await signIn(ua, hinted, user);

        const page = await ua.get(
          oidc
            .buildEndSessionUrl(hinted.config, {
              id_token_hint: tokens.id_token ?? '',
              post_logout_redirect_uri: POST_LOGOUT,
              state: 'hinted-1',
            })
            .toString(),
        );
        expect(page.status).toBe(200);
        expect(textOf(page.html)).not.toContain('Do you want to sign out');
        expect(page.html).not.toContain('name="logout" value="yes" autofocus');
        // The one inline script runs by its hash; nothing else inline is allowed.
        const script = /<script>([^<]*)<\/script>/.exec(page.html)?.[1] ?? '';
        const hash = createHash('sha256').update(script).digest('base64');
        expect(page.headers.get('content-security-policy')).toMatch(
          new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/]/g, '\\$&')}'`),
        );
        expect(page.headers.get('content-security-policy')).toContain(
          `form-action 'self' ${new URL(POST_LOGOUT).origin}`,
        );

        const { action, fields } = autoSubmitted(page);
        const done = await ua.post(action, fields);
        expect(done.status).toBe(303);
        expect(withoutQuery(done.location)).toBe(POST_LOGOUT);
        expect(paramsOf(done.location)).toEqual({ state: 'hinted-1' });

        const silent = await openAuthorization(ua, hinted, server.issuer, { prompt: 'none' });
        expect(paramsOf(silent.page.location).error).toBe('login_required');
        await expect(oidc.fetchUserInfo(hinted.config, tokens.access_token, user.id)).rejects.toMatchObject({
          status: 401,
        });
        // Back-channel logout as for a confirmed logout, naming the ended session.
        const { payload } = await verifyLogoutToken(await receiver.next(), server.issuer, hinted.client.clientId);
        expect(payload).toMatchObject({ sub: user.id, sid: decodeJwt(tokens.id_token ?? '').sid });
      } finally {
        await server.gatehouse.backchannelSettled();
        await receiver.close();
      }
    });

    it('asks when the hint names another user than the signed-in one', async () => {
      const [alice, bob] = [await server.buildUser(), await server.buildUser()];
      const aliceTokens = (await signIn(new UserAgent(server.issuer), rp, alice)).tokens;
      const ua = new UserAgent(server.issuer);
      await signIn(ua, rp, bob);
      const page = await ua.get(endSessionUrl(aliceTokens.id_token ?? '', { state: 's' }));
      expect(textOf(page.html)).toContain('Do you want to sign out of Gatehouse and Logout RP?');
      expect(page.html).not.toContain('<script>');
    });

    it('asks when the hint is from an earlier session of the same user', async () => {
      const user = await server.buildUser();
      const ua = new UserAgent(server.issuer);
      const earlier = (await signIn(ua, rp, user)).tokens;
      const form = logoutForm(await ua.get(unhintedEndSessionUrl()));
      expect((await ua.post(form.action, { xsrf: form.xsrf, logout: 'yes' })).status).toBe(303);
      const current = (await signIn(ua, rp, user)).tokens;
      expect(decodeJwt(current.id_token ?? '').sid).not.toBe(decodeJwt(earlier.id_token ?? '').sid);

      const page = await ua.get(endSessionUrl(earlier.id_token ?? ''));
      expect(textOf(page.html)).toContain('Do you want to sign out');
      expect(page.html).not.toContain('<script>');
      // The current session's own hint does skip the question.
      expect((await ua.get(endSessionUrl(current.id_token ?? ''))).html).toContain('<script>');
    });

    it('asks when no post_logout_redirect_uri is given, and when there is no hint', async () => {
      const user = await server.buildUser();
      const ua = new UserAgent(server.issuer);
      const { tokens } = await signIn(ua, rp, user);
      const withoutTarget = await ua.get(
        oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token ?? '' }).toString(),
      );
      expect(textOf(withoutTarget.html)).toContain('Do you want to sign out');
      const withoutHint = await ua.get(unhintedEndSessionUrl({ state: 's' }));
      expect(textOf(withoutHint.html)).toContain('Do you want to sign out');
      expect(withoutHint.html).not.toContain('<script>');
    });
  });
});
