import pg from 'pg';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { oidc, redeemCode } from '../../helpers/rp.js';
import {
  UserAgent,
  alertText,
  buildRp,
  follow,
  inputValue,
  openAuthorization,
  pageKind,
  paramsOf,
  signIn,
  submitLogin,
  textOf,
  userAdminFor,
  withoutQuery,
} from '../../helpers/sessions.js';

const WRONG_CREDENTIALS = 'The email address or password is not correct.';
const ACCOUNT_DISABLED = 'This account is disabled. Contact your administrator to have it enabled again.';
const THROTTLED = 'Too many failed attempts. Please try again in 2 minutes.';
const MAX_FAILED = 3;

describe.each(HTTP_BACKENDS)('login step (%s)', (backend) => {
  const server = useTestServer(backend, { lockout: { freeFailures: MAX_FAILED, baseDelaySeconds: 120 } });

  it('shows a login page naming the client and signs in with the right password', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server, { name: 'Payroll Portal' });
    const ua = new UserAgent(server.issuer);
    const { request, page } = await openAuthorization(ua, rp, server.issuer);
    expect(page.status).toBe(200);
    expect(pageKind(page)).toBe('login');
    expect(textOf(page.html)).toContain('to continue to Payroll Portal');

    const done = await submitLogin(ua, page, user.email, user.password);
    expect(done.status).toBe(303);
    const callback = await ua.get(done.location ?? '');
    expect(callback.location?.startsWith(rp.client.redirectUri)).toBe(true);
    expect(paramsOf(callback.location)).toMatchObject({ state: request.state, iss: server.issuer });
    expect(paramsOf(callback.location).code).toEqual(expect.any(String));
  });

  it('answers a wrong password and an unknown email alike: 401, same message, no redirect', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server);
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);

    const wrongPassword = await submitLogin(ua, page, user.email, `${user.password}x`);
    const unknownEmail = await submitLogin(ua, page, uniqueEmail('nobody'), user.password);
    for (const answer of [wrongPassword, unknownEmail]) {
      expect(answer.status).toBe(401);
      expect(answer.location).toBeNull();
      expect(pageKind(answer)).toBe('login');
      expect(alertText(answer.html)).toBe(WRONG_CREDENTIALS);
    }
    // The typed email comes back so that the user can fix the password only.
    expect(inputValue(wrongPassword.html, 'email')).toBe(user.email);
    expect(inputValue(wrongPassword.html, 'password')).toBeUndefined();
    expect(wrongPassword.html).not.toContain(user.password);

    // The interaction is still open: the right password finishes it.
    const done = await submitLogin(ua, wrongPassword, user.email, user.password);
    expect(done.status).toBe(303);
  });

  it('refuses empty and oversized fields with 400 and the login page', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server);
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    for (const [email, password] of [
      ['', user.password],
      [user.email, ''],
      [`${'a'.repeat(320)}@x.test`, user.password],
      [user.email, 'p'.repeat(257)],
    ] as const) {
      const answer = await submitLogin(ua, page, email, password);
      expect(answer.status).toBe(400);
      expect(pageKind(answer)).toBe('login');
      expect(alertText(answer.html)).toBe('Enter your email address and password.');
    }
  });

  it('tells a disabled user who typed the right password that the account is disabled, and signs nobody in', async () => {
    const user = await server.buildUser();
    await userAdminFor(server).setDisabled(user.email, true);
    const rp = await buildRp(server);
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    const answer = await submitLogin(ua, page, user.email, user.password);
    expect(answer.status).toBe(403);
    expect(answer.location).toBeNull();
    expect(pageKind(answer)).toBe('login');
    expect(alertText(answer.html)).toBe(ACCOUNT_DISABLED);
    // No session came of it: a silent request still needs a sign-in.
    const silent = await openAuthorization(ua, rp, server.issuer, { prompt: 'none' });
    expect(paramsOf(silent.page.location).error).toBe('login_required');
  });

  it('answers a wrong password for a disabled account like any wrong password: 401 and the ordinary message', async () => {
    const user = await server.buildUser();
    await userAdminFor(server).setDisabled(user.email, true);
    const rp = await buildRp(server);
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    const answer = await submitLogin(ua, page, user.email, `${user.password}x`);
    expect(answer.status).toBe(401);
    expect(alertText(answer.html)).toBe(WRONG_CREDENTIALS);
    expect(answer.html).not.toContain('disabled');
    const events = await server.gatehouse.storage.storage.audit.forSubject(user.id, 5);
    expect(events.find((e) => e.action === 'signin.password.failed')?.details).toEqual({
      reason: 'disabled_wrong_password',
    });
  });

  it('ends the session and tokens of a user who is disabled after signing in', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server);
    const ua = new UserAgent(server.issuer);
    const { tokens } = await signIn(ua, rp, user, { scope: 'openid email offline_access', prompt: 'consent' });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    await expect(oidc.fetchUserInfo(rp.config, tokens.access_token, user.id)).resolves.toMatchObject({ sub: user.id });

    await userAdminFor(server).setDisabled(user.email, true);

    await expect(oidc.fetchUserInfo(rp.config, tokens.access_token, user.id)).rejects.toMatchObject({ status: 401 });
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    const introspection = await oidc.tokenIntrospection(rp.config, tokens.access_token);
    expect(introspection.active).toBe(false);
    const { page } = await openAuthorization(ua, rp, server.issuer, { prompt: 'none' });
    expect(paramsOf(page.location).error).toBe('login_required');
  });

  it('does not let a session outlive its account when the user row alone is disabled', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server);
    const ua = new UserAgent(server.issuer);
    const { tokens } = await signIn(ua, rp, user);

    // Only the flag, as a direct database change would: the session row is still there.
    await server.gatehouse.storage.storage.users.setDisabled(user.id, true);

    await expect(oidc.fetchUserInfo(rp.config, tokens.access_token, user.id)).rejects.toMatchObject({ status: 401 });
    const silent = await openAuthorization(ua, rp, server.issuer, { prompt: 'none' });
    expect(silent.page.status).toBe(303);
    expect(paramsOf(silent.page.location).error).toBe('login_required');
    expect(paramsOf(silent.page.location).code).toBeUndefined();
    const interactive = await openAuthorization(ua, rp, server.issuer);
    expect(pageKind(interactive.page)).toBe('login');
    const refused = await submitLogin(ua, interactive.page, user.email, user.password);
    expect(refused.status).toBe(403);

    // Another person can still sign in on this browser.
    const other = await server.buildUser();
    const switched = await submitLogin(ua, refused, other.email, other.password);
    expect(switched.status).toBe(303);
    const callback = await follow(ua, switched.location ?? '', server.issuer);
    expect(withoutQuery(callback.location)).toBe(rp.client.redirectUri);
    const otherTokens = await redeemCode(rp.config, callback.location ?? '', interactive.request);
    expect(otherTokens.claims()?.sub).toBe(other.id);
  });

  it(`refuses an account with 429 after ${MAX_FAILED} failed attempts, even with the right password`, async () => {
    const user = await server.buildUser();
    const other = await server.buildUser();
    const rp = await buildRp(server);
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);

    for (let attempt = 1; attempt <= MAX_FAILED; attempt++) {
      const answer = await submitLogin(ua, page, user.email, `wrong-${attempt}`);
      expect(answer.status).toBe(401);
    }
    const locked = await submitLogin(ua, page, user.email, user.password);
    expect(locked.status).toBe(429);
    expect(locked.location).toBeNull();
    expect(alertText(locked.html)).toBe(THROTTLED);
    // The count follows the account, not the spelling of its address.
    const shouted = await submitLogin(ua, page, `  ${user.email.toUpperCase()} `, user.password);
    expect(shouted.status).toBe(429);

    // Other accounts are not affected.
    const fine = await submitLogin(ua, page, other.email, other.password);
    expect(fine.status).toBe(303);
  });

  it('clears the failure count after a successful sign-in', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server);
    for (let round = 0; round < 2; round++) {
      const ua = new UserAgent(server.issuer);
      const { page } = await openAuthorization(ua, rp, server.issuer);
      for (let attempt = 1; attempt < MAX_FAILED; attempt++) {
        expect((await submitLogin(ua, page, user.email, 'nope')).status).toBe(401);
      }
      expect((await submitLogin(ua, page, user.email, user.password)).status).toBe(303);
    }
  });

  it('reads its interaction from the database once per sign-in POST, and the result it saves resumes the sign-in', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server);
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    // The server runs in this process: its statements go through node-postgres' Client here.
    const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
    let interactionReads = 0;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const [config] = args as [{ text?: string; values?: unknown[] } | string];
      if (
        typeof config === 'object' &&
        config.text?.includes('FROM oidc_payloads') &&
        config.values?.[0] === 'Interaction'
      )
        interactionReads++;
      return query.apply(this, args);
    } as typeof pg.Client.prototype.query;
    let done: Awaited<ReturnType<typeof submitLogin>>;
    try {
      done = await submitLogin(ua, page, user.email, user.password);
    } finally {
      pg.Client.prototype.query = query as typeof pg.Client.prototype.query;
    }
    expect(done.status).toBe(303);
    expect(interactionReads).toBe(1);
    const callback = await ua.get(done.location ?? '');
    expect(paramsOf(callback.location).code).toEqual(expect.any(String));
  });

  it('pre-fills the email field from login_hint and escapes it', async () => {
    const rp = await buildRp(server);
    const hinted = await openAuthorization(new UserAgent(server.issuer), rp, server.issuer, {
      login_hint: 'ada@example.test',
    });
    expect(pageKind(hinted.page)).toBe('login');
    expect(inputValue(hinted.page.html, 'email')).toBe('ada@example.test');

    const plain = await openAuthorization(new UserAgent(server.issuer), rp, server.issuer);
    expect(inputValue(plain.page.html, 'email')).toBe('');

    const hostile = '"><script>alert(1)</script>';
    const escaped = await openAuthorization(new UserAgent(server.issuer), rp, server.issuer, { login_hint: hostile });
    expect(escaped.page.status).toBe(200);
    expect(escaped.page.html).not.toContain('<script>alert(1)</script>');
    expect(inputValue(escaped.page.html, 'email')).toBe(hostile);
  });
});
