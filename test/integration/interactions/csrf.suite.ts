import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { csrfToken } from '../../helpers/user-agent.js';
import {
  UserAgent,
  actionOf,
  alertText,
  buildRp,
  errorCode,
  follow,
  openAuthorization,
  pageKind,
  paramsOf,
  signIn,
  submitLogin,
  withoutQuery,
  type TestRp,
} from '../../helpers/sessions.js';
import type { Page } from '../../helpers/user-agent.js';

const FORGED = 'The form expired or was not sent by this site. Go back and try again.';
const FOREIGN = 'This form was sent from another site and was refused.';

function expectRefused(page: Page, message: string): void {
  expect(page.status).toBe(403);
  expect(page.location).toBeNull();
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expect(errorCode(page.html)).toBe('forbidden');
  expect(alertText(page.html)).toBe(message);
  expect(page.headers.getSetCookie().some((c) => /^gh_session=/.test(c))).toBe(false);
}

describe.each(HTTP_BACKENDS)('CSRF defences of the sign-in forms (%s)', (backend) => {
  let firstParty: TestRp;
  let thirdParty: TestRp;
  const server = useSharedTestServer(backend);
  beforeAll(async () => {
    firstParty = await buildRp(server);
    thirdParty = await buildRp(server, { name: 'Third Party', firstParty: false });
  });

  it('refuses a login POST without a CSRF field or with a wrong one, and finishes nothing', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { request, page } = await openAuthorization(ua, firstParty, server.issuer);
    const login = actionOf(page, '/login');
    const good = csrfToken(page.html);

    expectRefused(await ua.post(login, { email: user.email, password: user.password }), FORGED);
    expectRefused(await ua.post(login, { csrf: '', email: user.email, password: user.password }), FORGED);
    expectRefused(
      await ua.post(login, {
        csrf: `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`,
        email: user.email,
        password: user.password,
      }),
      FORGED,
    );
    expectRefused(await ua.post(login, { csrf: `${good}${good}`, email: user.email, password: user.password }), FORGED);

    // A token from another sign-in does not fit this one.
    const other = await openAuthorization(new UserAgent(server.issuer), firstParty, server.issuer);
    expectRefused(
      await ua.post(login, { csrf: csrfToken(other.page.html), email: user.email, password: user.password }),
      FORGED,
    );

    // Nothing was finished: the sign-in still waits for the login, and no session exists.
    const silent = await openAuthorization(ua, firstParty, server.issuer, { prompt: 'none' });
    expect(paramsOf(silent.page.location).error).toBe('login_required');
    const again = await ua.get(page.url);
    expect(pageKind(again)).toBe('login');
    const done = await submitLogin(ua, again, user.email, user.password);
    expect(done.status).toBe(303);
    const callback = await follow(ua, done.location ?? '', server.issuer);
    expect(paramsOf(callback.location).state).toBe(request.state);
    expect(paramsOf(callback.location).code).toEqual(expect.any(String));
  });

  it('does not count a refused CSRF POST as a failed password attempt', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, firstParty, server.issuer);
    for (let i = 0; i < 12; i++) {
      expect(
        (await ua.post(actionOf(page, '/login'), { csrf: 'x', email: user.email, password: 'wrong' })).status,
      ).toBe(403);
    }
    expect((await submitLogin(ua, page, user.email, user.password)).status).toBe(303);
  });

  it('refuses a consent POST without a CSRF field or with a wrong one, and grants nothing', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { request, page } = await openAuthorization(ua, thirdParty, server.issuer);
    const done = await submitLogin(ua, page, user.email, user.password);
    const consentPage = await follow(ua, done.location ?? '', server.issuer);
    expect(pageKind(consentPage)).toBe('consent');
    const consent = actionOf(consentPage, '/consent');

    expectRefused(await ua.post(consent, { decision: 'allow' }), FORGED);
    expectRefused(
      await ua.post(consent, { csrf: csrfToken(page.html).split('').reverse().join(''), decision: 'allow' }),
      FORGED,
    );
    // The login step's token is bound to another interaction.
    expectRefused(await ua.post(consent, { csrf: csrfToken(page.html), decision: 'allow' }), FORGED);
    expect(await server.gatehouse.storage.storage.sessions.listGrants(user.id)).toEqual([]);

    const allowed = await ua.post(consent, { csrf: csrfToken(consentPage.html), decision: 'allow' });
    expect(allowed.status).toBe(303);
    const callback = await follow(ua, allowed.location ?? '', server.issuer);
    expect(withoutQuery(callback.location)).toBe(thirdParty.client.redirectUri);
    expect(paramsOf(callback.location)).toMatchObject({ state: request.state, code: expect.any(String) });
  });

  it('refuses the account chooser and cancel forms without a valid CSRF field', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    await signIn(ua, firstParty, user);
    const { page } = await openAuthorization(ua, firstParty, server.issuer, { prompt: 'select_account' });
    expect(pageKind(page)).toBe('select_account');
    const select = actionOf(page, '/select-account');
    expectRefused(await ua.post(select, { action: 'continue' }), FORGED);
    expectRefused(await ua.post(select.replace(/\/select-account$/, '/abort'), { csrf: 'nope' }), FORGED);
    expect(pageKind(await ua.get(page.url))).toBe('select_account');
  });

  it('refuses form POSTs whose Origin is another site, even with a valid CSRF field', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, thirdParty, server.issuer);
    const form = { csrf: csrfToken(page.html), email: user.email, password: user.password };
    const hostile = [
      'https://evil.example',
      'null',
      server.issuer.replace('127.0.0.1', 'localhost'),
      `${server.issuer}.evil.example`,
    ];
    for (const origin of hostile) {
      expectRefused(await ua.post(actionOf(page, '/login'), form, { origin }), FOREIGN);
    }
    expect(pageKind(await ua.get(page.url))).toBe('login');

    const done = await submitLogin(ua, page, user.email, user.password);
    const consentPage = await follow(ua, done.location ?? '', server.issuer);
    const consent = actionOf(consentPage, '/consent');
    expectRefused(
      await ua.post(
        consent,
        { csrf: csrfToken(consentPage.html), decision: 'allow' },
        { origin: 'https://evil.example' },
      ),
      FOREIGN,
    );
    expect(await server.gatehouse.storage.storage.sessions.listGrants(user.id)).toEqual([]);
    // Our own origin (and a browser that sends none) is accepted.
    const allowed = await ua.post(
      consent,
      { csrf: csrfToken(consentPage.html), decision: 'allow' },
      { origin: server.issuer },
    );
    expect(allowed.status).toBe(303);
  });
});
