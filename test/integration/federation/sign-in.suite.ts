import { randomBytes } from 'node:crypto';
import { federationRedirectUri } from '../../../src/federation/federation.service.js';
import type { ConnectionInput } from '../../../src/federation/connection.js';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { TEST_ACTOR, uniqueEmail } from '../../helpers/factories.js';
import { useTestServer } from '../../helpers/server.js';
import { alertText, errorCode } from '../../helpers/sessions.js';
import { startUpstreamOp, type UpstreamOp } from '../../helpers/upstream-op.js';
import { startSocialUpstream, type SocialUpstream } from '../../helpers/upstream-social.js';
import { followToCallback } from '../../helpers/upstream-driver.js';
import { csrfToken, formAction, type Page } from '../../helpers/user-agent.js';
import {
  callbackWith,
  followOwn,
  pressContinueWith,
  redeem,
  startFlow,
  throughUpstream,
} from '../../helpers/federated-sign-in.js';

const SECRET = `upstream-secret-${randomBytes(8).toString('hex')}`;
const OP_CONNECTIONS = ['op-main', 'op-untrusted', 'op-domain', 'op-realm', 'op-slow'];

/** Issue 17, the sign-in side: HTTP against a real server and real upstreams, openid-client as the RP. */
describe.each(HTTP_BACKENDS)('sign-in through upstream identity providers (%s)', (backend) => {
  const server = useTestServer(backend, { federation: { upstreamTimeoutMs: 500 } });
  let op: UpstreamOp;
  let social: SocialUpstream;

  const connection = (id: string, overrides: Partial<ConnectionInput> = {}): ConnectionInput => ({
    id,
    displayName: `Upstream ${id}`,
    kind: 'oidc',
    issuer: op.issuer,
    clientId: id,
    clientSecret: SECRET,
    scopes: ['openid', 'email', 'profile'],
    ...overrides,
  });

  beforeAll(async () => {
    op = await startUpstreamOp({
      clients: OP_CONNECTIONS.map((id) => ({
        client_id: id,
        client_secret: SECRET,
        redirect_uris: [federationRedirectUri(server.issuer, id)],
      })),
    });
    social = await startSocialUpstream({ clientId: 'social-client', clientSecret: SECRET });
    const create = (input: ConnectionInput) => server.gatehouse.admin.connections.create(input, TEST_ACTOR);
    await create(
      connection('op-main', {
        createAccounts: true,
        trustEmailVerification: true,
        trustUpstreamMfa: true,
        order: 1,
      }),
    );
    await create(connection('op-untrusted', { createAccounts: true, order: 2 }));
    await create(
      connection('op-domain', {
        createAccounts: true,
        trustEmailVerification: true,
        allowedEmailDomains: ['corp.test'],
        order: 3,
      }),
    );
    await create(
      connection('op-realm', {
        createAccounts: true,
        trustEmailVerification: true,
        homeRealmDomains: ['realm.test'],
        order: 4,
      }),
    );
    await create(connection('op-slow', { createAccounts: true, order: 5 }));
    await create({
      id: 'github',
      displayName: 'GitHub',
      preset: 'github',
      clientId: 'social-client',
      clientSecret: SECRET,
      createAccounts: true,
      trustEmailVerification: true,
      options: { baseUrl: social.url, apiUrl: social.url },
      order: 6,
    });
  });
  afterAll(async () => {
    await op?.close();
    await social?.close();
  });

  /** A person at the OP with these claims, signed in there by its next authorization. */
  function upstreamPerson(claims: Record<string, unknown>, login: { amr?: string[]; acr?: string } = {}): string {
    const subject = `sub-${randomBytes(6).toString('hex')}`;
    op.setAccount(subject, claims);
    op.login = { accountId: subject, ...login };
    return subject;
  }

  /** The RP's request, the sign-in page, the button, the upstream and the callback. */
  async function federated(
    connectionId: string,
    options: Parameters<typeof startFlow>[1] & Parameters<typeof throughUpstream>[4] = {},
  ) {
    const flow = await startFlow(server, options);
    expect(flow.page.status).toBe(200);
    const toUpstream = await pressContinueWith(flow.ua, flow.page, connectionId);
    expect(toUpstream.status).toBe(303);
    const { page, params } = await throughUpstream(server, flow, toUpstream.location ?? '', connectionId, options);
    return { flow, page, params, signInPage: flow.page };
  }

  /** An error page of the callback: its status, code, message and the way back. */
  function failurePage(page: Page, status: number, code: string) {
    expect({ status: page.status, code: errorCode(page.html) }).toEqual({ status, code });
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.html).not.toMatch(/at .+\.(ts|js):\d+/);
    return alertText(page.html);
  }
  const backLink = (page: Page) => /<a href="([^"]+)" data-back>/.exec(page.html)?.[1];

  it('creates the account on the first sign-in, then signs the same person in; the ID token says fed', async () => {
    const email = uniqueEmail('fed-web');
    upstreamPerson({ email, email_verified: true, name: 'Web Person' });
    const first = await federated('op-main');
    // The button: a real form per connection, labelled, with an icon of ours, and the upstream allowed as a form target.
    const button = /<button[^>]*data-connection="op-main"[^>]*>([\s\S]*?)<\/button>/.exec(first.signInPage.html)?.[1];
    expect(button).toContain('Continue with Upstream op-main');
    expect(button).toMatch(/<img src="\/assets\/icons\/generic\.svg" alt=""/);
    expect(first.signInPage.headers.get('content-security-policy')).toContain(new URL(op.issuer).origin);
    const tokens = await redeem(first.flow, first.page);
    const claims = tokens.claims();
    expect(claims?.amr).toEqual(['fed']);
    expect(claims?.acr).toBe(server.gatehouse.config.acr.password);
    const user = await server.gatehouse.storage.storage.users.findByEmail(email);
    expect(user).toMatchObject({ emailVerified: true, name: 'Web Person' });
    expect(claims?.sub).toBe(user?.id);

    const again = await federated('op-main');
    expect((await redeem(again.flow, again.page)).claims()?.sub).toBe(user?.id);
  });

  it('serves the icons from our own assets', async () => {
    const flow = await startFlow(server);
    for (const icon of ['google', 'microsoft', 'github', 'gitlab', 'discord', 'apple', 'generic']) {
      const res = await flow.ua.get(`/assets/icons/${icon}.svg`);
      expect({ icon, status: res.status, type: res.headers.get('content-type') }).toEqual({
        icon,
        status: 200,
        type: 'image/svg+xml',
      });
    }
    expect(flow.page.html).toContain('/assets/icons/github.svg');
    expect(flow.page.html).not.toMatch(/src="https?:/);
  });

  it('speaks German on the sign-in page and the error page', async () => {
    upstreamPerson({ email: uniqueEmail('fed-de'), email_verified: true });
    const { signInPage, page } = await federated('op-main', {
      params: { ui_locales: 'de' },
      tamper: (params) => {
        params.state = `${params.state}x`;
      },
    });
    expect(signInPage.html).toContain('Weiter mit Upstream op-main');
    expect(page.status).toBe(400);
    expect(page.html).toContain('Fehlercode: <code>state_mismatch</code>');
    expect(page.html).toContain('Die Anmeldung hat nicht funktioniert');
    expect(page.html).toContain('Zurück zur Anmeldung');
  });

  it('asks for the password of a matching account before linking; a wrong one is refused; then signs in directly', async () => {
    const owner = await server.buildUser({ email: uniqueEmail('fed-owner') });
    upstreamPerson({ email: owner.email, email_verified: true });
    const { flow, page } = await federated('op-main');
    expect(page.status).toBe(200);
    expect(page.html).toContain('Link your account');
    const action = formAction(page.html, '/federation/link');
    expect(action).toBeDefined();

    const wrong = await flow.ua.post(action ?? '', { csrf: csrfToken(page.html), password: 'not-the-password' });
    expect(wrong.status).toBe(401);
    expect(alertText(wrong.html)).toBe('That password is not correct.');
    expect(await server.gatehouse.admin.identities.list(owner.id)).toEqual([]);
    const failed = await server.gatehouse.storage.storage.audit.query({ subjectId: owner.id, limit: 5 });
    expect(failed.map((e) => e.action)).toContain('signin.password.failed');

    const right = await flow.ua.post(action ?? '', { csrf: csrfToken(wrong.html), password: owner.password });
    const tokens = await redeem(flow, await followOwn(flow.ua, right, flow.client.redirectUri));
    expect(tokens.claims()).toMatchObject({ sub: owner.id, amr: ['fed', 'pwd'] });

    const again = await federated('op-main');
    expect((await redeem(again.flow, again.page)).claims()?.sub).toBe(owner.id);
  });

  it('never links or verifies with an unverified upstream address', async () => {
    const owner = await server.buildUser({ email: uniqueEmail('fed-victim') });
    upstreamPerson({ email: owner.email, email_verified: false });
    const { page, flow } = await federated('op-main');
    expect(failurePage(page, 403, 'email_not_verified')).toMatch(/already exists/);
    expect(backLink(page)).toBe(new URL(flow.page.url).pathname);
    expect(await server.gatehouse.admin.identities.list(owner.id)).toEqual([]);

    const email = uniqueEmail('fed-unverified');
    upstreamPerson({ email, email_verified: false });
    const created = await federated('op-main');
    await redeem(created.flow, created.page);
    expect(await server.gatehouse.storage.storage.users.findByEmail(email)).toMatchObject({ emailVerified: false });
  });

  it('ends a tampered, replayed, foreign-nonce or mixed-up callback on the error page with a way back', async () => {
    const email = uniqueEmail('fed-tamper');
    upstreamPerson({ email, email_verified: true });
    const tampered = await federated('op-main', {
      tamper: (params) => {
        params.state = `${params.state}x`;
      },
    });
    expect(failurePage(tampered.page, 400, 'state_mismatch')).toMatch(/Start the sign-in again/);
    expect(backLink(tampered.page)).toBe(new URL(tampered.flow.page.url).pathname);

    // A good callback, used once, then once more.
    const good = await federated('op-main');
    await redeem(good.flow, good.page);
    const replay = await callbackWith(
      good.flow.ua,
      federationRedirectUri(server.issuer, 'op-main'),
      good.params,
      false,
    );
    failurePage(replay, 400, 'state_mismatch');

    // Another browser bringing a real callback: no binding cookie.
    const flow = await startFlow(server);
    const started = await pressContinueWith(flow.ua, flow.page, 'op-main');
    const params = await followToCallback(started.location ?? '', federationRedirectUri(server.issuer, 'op-main'));
    const stranger = await startFlow(server);
    failurePage(
      await callbackWith(stranger.ua, federationRedirectUri(server.issuer, 'op-main'), params, false),
      400,
      'state_mismatch',
    );

    const nonce = await startFlow(server);
    const toUpstream = await pressContinueWith(nonce.ua, nonce.page, 'op-main');
    const url = new URL(toUpstream.location ?? '');
    url.searchParams.set('nonce', 'another-attempts-nonce');
    const nonced = await throughUpstream(server, nonce, url.href, 'op-main');
    failurePage(nonced.page, 400, 'nonce_mismatch');

    const mixup = await federated('op-main', {
      tamper: (p) => {
        p.iss = 'https://attacker.example';
      },
    });
    failurePage(mixup.page, 400, 'issuer_mismatch');
  });

  it('ends on the error page when the person declines at the upstream, or it does not answer in time', async () => {
    upstreamPerson({ email: uniqueEmail('fed-deny'), email_verified: true });
    op.deny = true;
    try {
      const denied = await federated('op-main');
      failurePage(denied.page, 403, 'upstream_error');
      expect(denied.page.html).toContain('<code>access_denied</code>');
      expect(backLink(denied.page)).toBeDefined();
    } finally {
      op.deny = false;
    }

    upstreamPerson({ email: uniqueEmail('fed-slow'), email_verified: true });
    const flow = await startFlow(server);
    const started = await pressContinueWith(flow.ua, flow.page, 'op-slow');
    const params = await followToCallback(started.location ?? '', federationRedirectUri(server.issuer, 'op-slow'));
    op.slow = true;
    try {
      const began = Date.now();
      const page = await callbackWith(flow.ua, federationRedirectUri(server.issuer, 'op-slow'), params, false);
      failurePage(page, 504, 'upstream_unavailable');
      expect(Date.now() - began).toBeLessThan(5_000);
    } finally {
      op.slow = false;
    }
  });

  it('lets in only addresses at the allowed domains', async () => {
    upstreamPerson({ email: uniqueEmail('fed-outsider'), email_verified: true });
    const outsider = await federated('op-domain');
    failurePage(outsider.page, 403, 'domain_not_allowed');

    upstreamPerson({ email: `insider-${randomBytes(4).toString('hex')}@corp.test`, email_verified: true });
    const insider = await federated('op-domain');
    expect((await redeem(insider.flow, insider.page)).claims()?.amr).toEqual(['fed']);
  });

  it('sends an address at a claimed domain to its upstream before any password check (home-realm discovery)', async () => {
    const email = `someone-${randomBytes(4).toString('hex')}@realm.test`;
    upstreamPerson({ email, email_verified: true });
    const flow = await startFlow(server);
    const login = formAction(flow.page.html, '/login') ?? '';
    const redirected = await flow.ua.post(login, { csrf: csrfToken(flow.page.html), email, password: '' });
    expect(redirected.status).toBe(303);
    const upstream = new URL(redirected.location ?? '');
    expect(upstream.origin).toBe(new URL(op.issuer).origin);
    expect(upstream.searchParams.get('login_hint')).toBe(email);
    expect(upstream.searchParams.get('client_id')).toBe('op-realm');
    const { page } = await throughUpstream(server, flow, upstream.href, 'op-realm');
    expect((await redeem(flow, page)).claims()?.sub).toBe(
      (await server.gatehouse.storage.storage.users.findByEmail(email))?.id,
    );

    // An unclaimed domain, known account or not: the ordinary form, the same answer.
    const known = await server.buildUser();
    for (const typed of [known.email, uniqueEmail('nobody')]) {
      const other = await startFlow(server);
      const answer = await other.ua.post(formAction(other.page.html, '/login') ?? '', {
        csrf: csrfToken(other.page.html),
        email: typed,
        password: '',
      });
      expect({ status: answer.status, alert: alertText(answer.html) }).toEqual({
        status: 400,
        alert: 'Enter your email address and password.',
      });
    }
  });

  it('skips the choice for upstream=<connection> once; an unknown one shows the page', async () => {
    upstreamPerson({ email: uniqueEmail('fed-hint'), email_verified: true });
    const flow = await startFlow(server, { params: { upstream: 'op-main' } });
    expect(flow.page.status).toBe(303);
    expect(new URL(flow.page.location ?? '').origin).toBe(new URL(op.issuer).origin);
    const { page } = await throughUpstream(server, flow, flow.page.location ?? '', 'op-main');
    expect((await redeem(flow, page)).claims()?.amr).toEqual(['fed']);

    const unknown = await startFlow(server, { params: { upstream: 'no-such-connection' } });
    expect(unknown.page.status).toBe(200);
    expect(formAction(unknown.page.html, '/login')).toBeDefined();

    // Back on the sign-in page after the hint was followed: the choice, not a loop.
    op.deny = true;
    try {
      const once = await startFlow(server, { params: { upstream: 'op-main' } });
      const denied = await throughUpstream(server, once, once.page.location ?? '', 'op-main');
      const back = await once.ua.get(backLink(denied.page) ?? '');
      expect(back.status).toBe(200);
      expect(formAction(back.html, '/federation/start/op-main')).toBeDefined();
    } finally {
      op.deny = false;
    }
  });

  it("signs in through GitHub's API shape with its verified primary address", async () => {
    const email = uniqueEmail('fed-github');
    social.github.user = { id: Number.parseInt(randomBytes(3).toString('hex'), 16), login: 'octo', name: 'Octo Cat' };
    social.github.emails = [{ email, primary: true, verified: true }];
    const { flow, page } = await federated('github');
    const user = await server.gatehouse.storage.storage.users.findByEmail(email);
    expect((await redeem(flow, page)).claims()).toMatchObject({ amr: ['fed'], sub: user?.id });
    expect(user).toMatchObject({ emailVerified: true, name: 'Octo Cat' });
  });

  it('runs the second step for a client that requires one, unless the upstream MFA is trusted', async () => {
    const client = await server.buildClient({ mfa: 'required' });
    upstreamPerson({ email: uniqueEmail('fed-mfa'), email_verified: true }, { amr: ['pwd'] });
    const plain = await federated('op-main', { client });
    expect(plain.page.status).toBe(200);
    expect(formAction(plain.page.html, '/mfa/enrol-totp')).toBeDefined();

    upstreamPerson({ email: uniqueEmail('fed-mfa'), email_verified: true }, { amr: ['pwd', 'mfa'] });
    const trusted = await federated('op-main', { client });
    expect((await redeem(trusted.flow, trusted.page)).claims()).toMatchObject({
      amr: ['fed', 'mfa'],
      acr: server.gatehouse.config.acr.mfa,
    });

    upstreamPerson({ email: uniqueEmail('fed-mfa'), email_verified: true }, { amr: ['pwd', 'mfa'] });
    const untrusted = await federated('op-untrusted', { client });
    expect(formAction(untrusted.page.html, '/mfa/enrol-totp')).toBeDefined();
  });

  it('refuses a button for a connection the client is not offered, and a start without the CSRF token', async () => {
    const flow = await startFlow(server);
    const action = formAction(flow.page.html, '/federation/start/op-main') ?? '';
    const noCsrf = await flow.ua.post(action, {});
    expect(noCsrf.status).toBe(403);
    const unknown = await flow.ua.post(action.replace('op-main', 'nope'), { csrf: csrfToken(flow.page.html) });
    expect(unknown.status).toBe(404);
    const garbage = await flow.ua.get(`${federationRedirectUri(server.issuer, 'op-main')}?error=access_denied`);
    failurePage(garbage, 400, 'state_mismatch');
    expect(backLink(garbage)).toBeUndefined();
  });
});
