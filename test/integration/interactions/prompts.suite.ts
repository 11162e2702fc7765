import { setTimeout as sleep } from 'node:timers/promises';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { redeemCode } from '../../helpers/rp.js';
import { csrfToken } from '../../helpers/user-agent.js';
import {
  UserAgent,
  actionOf,
  buildRp,
  follow,
  openAuthorization,
  pageKind,
  paramsOf,
  signIn,
  submitLogin,
  textOf,
  withoutQuery,
  type TestRp,
} from '../../helpers/sessions.js';

describe.each(HTTP_BACKENDS)('prompt, max_age and account selection (%s)', (backend) => {
  let rp: TestRp;
  const server = useSharedTestServer(backend);
  beforeAll(async () => {
    rp = await buildRp(server);
  });

  it('answers prompt=none without a session with login_required at the redirect URI', async () => {
    const ua = new UserAgent(server.issuer);
    const { request } = await openAuthorization(ua, rp, server.issuer, { prompt: 'none' });
    const first = await ua.get(request.url);
    expect(first.status).toBe(303);
    expect(withoutQuery(first.location)).toBe(rp.client.redirectUri);
    const params = paramsOf(first.location);
    expect(params).toMatchObject({ error: 'login_required', state: request.state, iss: server.issuer });
    expect(params.code).toBeUndefined();
  });

  it('answers prompt=none with a session with a code and no page in between', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const first = await signIn(ua, rp, user);

    const { request } = await openAuthorization(ua, rp, server.issuer, { prompt: 'none' });
    const direct = await ua.get(request.url);
    expect(direct.status).toBe(303);
    expect(withoutQuery(direct.location)).toBe(rp.client.redirectUri);
    expect(paramsOf(direct.location)).toMatchObject({ state: request.state, iss: server.issuer });
    const tokens = await redeemCode(rp.config, direct.location ?? '', request);
    expect(tokens.claims()).toMatchObject({
      sub: user.id,
      sid: first.tokens.claims()?.sid,
      auth_time: first.tokens.claims()?.auth_time,
    });
  });

  it('shows the login page again for prompt=login although a session exists', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    await signIn(ua, rp, user);
    const again = await signIn(ua, rp, user, { prompt: 'login' });
    expect(again.trace.pages).toEqual(['login']);
    expect(again.tokens.claims()?.sub).toBe(user.id);

    // prompt=login cannot be answered silently.
    const { page } = await openAuthorization(ua, rp, server.issuer, { prompt: 'none login' });
    expect(page.status).toBeLessThan(500);
    expect(paramsOf(page.location).error).toBe('invalid_request');
  });

  it('asks for the password again when the session is older than max_age', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const first = await signIn(ua, rp, user);
    const firstAuthTime = Number(first.tokens.claims()?.auth_time);

    const recent = await signIn(ua, rp, user, { max_age: '3600' });
    expect(recent.trace.pages).toEqual([]);

    await sleep(2100);
    const silent = await openAuthorization(ua, rp, server.issuer, { max_age: '1', prompt: 'none' });
    expect(paramsOf(silent.page.location).error).toBe('login_required');
    const stale = await signIn(ua, rp, user, { max_age: '1' });
    expect(stale.trace.pages).toEqual(['login']);
    expect(Number(stale.tokens.claims()?.auth_time)).toBeGreaterThan(firstAuthTime);

    const zero = await signIn(ua, rp, user, { max_age: '0' });
    expect(zero.trace.pages).toEqual(['login']);
  });

  it('refuses a malformed max_age without a server error', async () => {
    const ua = new UserAgent(server.issuer);
    for (const maxAge of ['-1', 'soon', '1e309']) {
      const { page } = await openAuthorization(ua, rp, server.issuer, { max_age: maxAge });
      expect(page.status).toBeLessThan(500);
      expect(paramsOf(page.location).error).toBe('invalid_request');
    }
  });

  it('shows the account chooser for prompt=select_account; continue needs no password', async () => {
    const user = await server.buildUser({ name: 'Grace Hopper' });
    const ua = new UserAgent(server.issuer);
    await signIn(ua, rp, user);

    const { page } = await openAuthorization(ua, rp, server.issuer, { prompt: 'select_account' });
    expect(page.status).toBe(200);
    expect(pageKind(page)).toBe('select_account');
    expect(textOf(page.html)).toContain(`Continue as Grace Hopper (${user.email})`);
    expect(page.html).not.toContain('name="password"');

    const chosen = await signIn(ua, rp, user, { prompt: 'select_account' }, { selectAccount: 'continue' });
    expect(chosen.trace.pages).toEqual(['select_account']);
    expect(chosen.tokens.claims()?.sub).toBe(user.id);
  });

  it('switches account from the chooser through the login page', async () => {
    const first = await server.buildUser();
    const second = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    await signIn(ua, rp, first);

    const { request, page } = await openAuthorization(ua, rp, server.issuer, { prompt: 'select_account' });
    const login = await ua.post(actionOf(page, '/select-account'), { csrf: csrfToken(page.html), action: 'switch' });
    expect(login.status).toBe(200);
    expect(pageKind(login)).toBe('login');

    const done = await submitLogin(ua, login, second.email, second.password);
    expect(done.status).toBe(303);
    const callback = await follow(ua, done.location ?? '', server.issuer);
    const tokens = await redeemCode(rp.config, callback.location ?? '', request);
    expect(tokens.claims()?.sub).toBe(second.id);

    // The browser now holds the second account's session.
    const silent = await openAuthorization(ua, rp, server.issuer, { prompt: 'none' });
    const silentTokens = await redeemCode(rp.config, silent.page.location ?? '', silent.request);
    expect(silentTokens.claims()?.sub).toBe(second.id);
  });

  it('shows the login page for prompt=select_account without a session, and refuses it with prompt=none', async () => {
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer, { prompt: 'select_account' });
    expect(pageKind(page)).toBe('login');
    const silent = await openAuthorization(ua, rp, server.issuer, { prompt: 'none select_account' });
    expect(paramsOf(silent.page.location).error).toBe('invalid_request');
  });

  it('refuses an unknown prompt value', async () => {
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer, { prompt: 'bogus' });
    expect(page.status).toBeLessThan(500);
    expect(paramsOf(page.location).error).toBe('invalid_request');
  });
});
