import { randomBytes } from 'node:crypto';
import { federationRedirectUri } from '../../../src/federation/federation.service.js';
import { federationSignedOutUri, UPSTREAM_SIGN_IN_MODEL } from '../../../src/federation/upstream-sign-out.js';
import type { ConnectionInput } from '../../../src/federation/connection.js';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { TEST_ACTOR, uniqueEmail } from '../../helpers/factories.js';
import { buildAuthRequest, oidc } from '../../helpers/rp.js';
import { useTestServer } from '../../helpers/server.js';
import { autoSubmitForm, logoutForm } from '../../helpers/sessions.js';
import { startUpstreamOp, type UpstreamOp } from '../../helpers/upstream-op.js';
import { UserAgent, csrfToken, formAction, type Page } from '../../helpers/user-agent.js';
import { followOwn, pressContinueWith, redeem, startFlow, throughUpstream } from '../../helpers/federated-sign-in.js';

const SECRET = `upstream-secret-${randomBytes(8).toString('hex')}`;
const POST_LOGOUT = 'http://127.0.0.1:9999/logged-out';

/**
 * Issue 17, upstream sign-out: a Gatehouse session signed in through a connection with
 * upstream_sign_out, signed out by its RP (RP-Initiated Logout) or on /account, sends the
 * browser on to the upstream's end_session_endpoint with the upstream's ID token, and comes
 * back to where the sign-out was going. HTTP against a real server and real upstream OPs.
 */
describe.each(HTTP_BACKENDS)('signing out upstream (%s)', (backend) => {
  const server = useTestServer(backend);
  let op: UpstreamOp;
  let silentOp: UpstreamOp;

  const connection = (id: string, issuer: string, overrides: Partial<ConnectionInput> = {}): ConnectionInput => ({
    id,
    displayName: `Upstream ${id}`,
    kind: 'oidc',
    issuer,
    clientId: id,
    clientSecret: SECRET,
    scopes: ['openid', 'email', 'profile'],
    createAccounts: true,
    trustEmailVerification: true,
    ...overrides,
  });
  const opClient = (id: string) => ({
    client_id: id,
    client_secret: SECRET,
    redirect_uris: [federationRedirectUri(server.issuer, id)],
    post_logout_redirect_uris: [federationSignedOutUri(server.issuer, id)],
  });

  beforeAll(async () => {
    op = await startUpstreamOp({ clients: [opClient('out-on'), opClient('out-off')] });
    silentOp = await startUpstreamOp({ clients: [opClient('out-none')], endSession: false });
    const create = (input: ConnectionInput) => server.gatehouse.admin.connections.create(input, TEST_ACTOR);
    await create(connection('out-on', op.issuer, { upstreamSignOut: true, order: 1 }));
    await create(connection('out-off', op.issuer, { upstreamSignOut: false, order: 2 }));
    await create(connection('out-none', silentOp.issuer, { upstreamSignOut: true, order: 3 }));
  });
  afterAll(async () => {
    await op?.close();
    await silentOp?.close();
  });

  /** A federated sign-in through `connectionId` for a new person, to the RP's tokens; the upstream's cookies kept. */
  async function signedInThrough(connectionId: string, upstream: UpstreamOp) {
    const subject = `sub-${randomBytes(6).toString('hex')}`;
    upstream.setAccount(subject, { email: uniqueEmail('fed-out'), email_verified: true });
    upstream.login = { accountId: subject };
    const flow = await startFlow(server);
    const toUpstream = await pressContinueWith(flow.ua, flow.page, connectionId);
    const upstreamUa = new UserAgent(upstream.issuer);
    const { page } = await throughUpstream(server, flow, toUpstream.location ?? '', connectionId, {
      upstreamCookies: upstreamUa.cookies,
    });
    const tokens = await redeem(flow, page);
    return { flow, tokens, subject, upstreamUa };
  }

  /** RP-initiated logout with the RP's ID token as hint, confirmed by the page's own form. */
  async function rpLogout(flow: Awaited<ReturnType<typeof signedInThrough>>['flow'], idToken: string | undefined) {
    const url = oidc.buildEndSessionUrl(flow.rp, {
      id_token_hint: idToken ?? '',
      post_logout_redirect_uri: POST_LOGOUT,
      state: 'rp-state',
    });
    const form = logoutForm(await flow.ua.get(url.href));
    return flow.ua.post(form.action, { xsrf: form.xsrf, logout: 'yes' });
  }

  /** Whether the browser still has a Gatehouse session: a silent authorization says. */
  async function stillSignedIn(flow: Awaited<ReturnType<typeof signedInThrough>>['flow']): Promise<boolean> {
    const request = await buildAuthRequest(flow.rp, flow.client.redirectUri, { prompt: 'none' });
    const end = await followOwn(flow.ua, await flow.ua.get(request.url), flow.client.redirectUri);
    return !new URL(end.location ?? 'http://x/').searchParams.has('error');
  }

  const upstreamLink = (page: Page) =>
    /<a class="button-link" id="upstream-sign-out" href="([^"]+)"/.exec(page.html)?.[1]?.replace(/&amp;/g, '&');

  const storedSignIns = async (): Promise<string[]> =>
    (
      (await server.gatehouse.storage.storage.dataSource.query(
        'SELECT payload::text AS p FROM oidc_payloads WHERE model = $1',
        [UPSTREAM_SIGN_IN_MODEL],
      )) as Array<{ p: string }>
    ).map((r) => r.p);

  it('ends the Gatehouse session, then the upstream one with its ID token as hint, and returns to the RP', async () => {
    const { flow, tokens, subject, upstreamUa } = await signedInThrough('out-on', op);
    expect(await stillSignedIn(flow)).toBe(true);
    const before = op.signedOut.length;
    const hintsBefore = op.validHints.length;

    const page = await rpLogout(flow, tokens.id_token);
    // A page that goes on to the upstream (not a redirect: CSP form-action), in no cache.
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toContain('no-store');
    const link = new URL(upstreamLink(page) ?? 'http://missing/');
    expect(`${link.origin}${link.pathname}`).toBe(`${op.issuer}/session/end`);
    expect(link.searchParams.get('client_id')).toBe('out-on');
    expect(link.searchParams.get('post_logout_redirect_uri')).toBe(federationSignedOutUri(server.issuer, 'out-on'));
    const hint = link.searchParams.get('id_token_hint') ?? '';
    expect(hint.split('.')).toHaveLength(3);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src [^;]*'sha256-/);
    // Signed out here already, before the upstream answers.
    expect(await stillSignedIn(flow)).toBe(false);

    // The upstream asks, the person confirms; the OP validated the hint (its subject is the person's).
    const form = logoutForm(await upstreamUa.get(link.href));
    const back = await upstreamUa.post(form.action, { xsrf: form.xsrf, logout: 'yes' });
    expect(op.validHints.slice(hintsBefore)).toEqual([{ subject, clientId: 'out-on' }]);
    expect(op.signedOut.slice(before)).toEqual([{ accountId: subject, clientId: 'out-on' }]);
    expect(back.location?.startsWith(`${federationSignedOutUri(server.issuer, 'out-on')}?`)).toBe(true);

    // Back here: on to the RP's post_logout_redirect_uri with its state, once.
    const returned = await flow.ua.get(back.location ?? '');
    expect(returned.status).toBe(302);
    const rp = new URL(returned.location ?? '');
    expect(`${rp.origin}${rp.pathname}`).toBe(POST_LOGOUT);
    expect(rp.searchParams.get('state')).toBe('rp-state');
    const replay = await flow.ua.get(back.location ?? '');
    expect(replay.location).toBe(`${server.issuer}/session/end/success`);
  });

  it('keeps the upstream ID token sealed, and forgets it at sign-out', async () => {
    const { flow, tokens } = await signedInThrough('out-on', op);
    const rows = await storedSignIns();
    expect(rows.length).toBeGreaterThan(0);
    const page = await rpLogout(flow, tokens.id_token);
    const hint = new URL(upstreamLink(page) ?? 'http://missing/').searchParams.get('id_token_hint') ?? '';
    expect(hint).not.toBe('');
    // The row of this session held the token, but never in clear (nor any part of it).
    const [header, payload, signature] = hint.split('.');
    for (const row of rows) {
      for (const part of [header, payload, signature]) expect(row).not.toContain(part);
    }
    expect(await storedSignIns()).toHaveLength(rows.length - 1);
  });

  it('signs out of Gatehouse only when the connection does not sign out upstream', async () => {
    const { flow, tokens } = await signedInThrough('out-off', op);
    const before = op.signedOut.length;
    const page = await rpLogout(flow, tokens.id_token);
    expect(page.status).toBe(303);
    expect(page.location?.startsWith(POST_LOGOUT)).toBe(true);
    expect(await stillSignedIn(flow)).toBe(false);
    expect(op.signedOut.length).toBe(before);
  });

  it('signs out of Gatehouse only when the upstream has no end_session_endpoint', async () => {
    const { flow, tokens } = await signedInThrough('out-none', silentOp);
    const page = await rpLogout(flow, tokens.id_token);
    expect(page.status).toBe(303);
    expect(page.location?.startsWith(POST_LOGOUT)).toBe(true);
    expect(await stillSignedIn(flow)).toBe(false);
  });

  it('does not sign out upstream when the person chooses to stay signed in', async () => {
    const { flow, tokens } = await signedInThrough('out-on', op);
    const url = oidc.buildEndSessionUrl(flow.rp, { id_token_hint: tokens.id_token ?? '' });
    const form = logoutForm(await flow.ua.get(url.href));
    const page = await flow.ua.post(form.action, { xsrf: form.xsrf });
    expect(page.status).toBe(303);
    expect(upstreamLink(page)).toBeUndefined();
  });

  it('does not go upstream when another account signs in in the same browser, and forgets the token', async () => {
    const { flow } = await signedInThrough('out-on', op);
    const other = await server.buildUser({ email: uniqueEmail('fed-switch') });
    const rows = (await storedSignIns()).length;
    const before = op.signedOut.length;
    const request = await buildAuthRequest(flow.rp, flow.client.redirectUri, { prompt: 'login' });
    const login = await followOwn(flow.ua, await flow.ua.get(request.url), flow.client.redirectUri);
    const submitted = await flow.ua.post(formAction(login.html, '/login') ?? '', {
      csrf: csrfToken(login.html),
      email: other.email,
      password: other.password,
    });
    // The provider signs the first account out before the second one's session: its own form.
    const auto = autoSubmitForm(await flow.ua.get(submitted.location ?? ''));
    expect(auto?.action).toBe(`${server.issuer}/session/end/confirm`);
    const confirmed = await flow.ua.post(auto?.action ?? '', auto?.fields ?? {});
    expect(confirmed.status).toBe(303);
    expect(confirmed.location?.startsWith(`${server.issuer}/auth/`)).toBe(true);
    expect(op.signedOut.length).toBe(before);
    expect(await storedSignIns()).toHaveLength(rows - 1);
    const end = await followOwn(flow.ua, await flow.ua.get(confirmed.location ?? ''), flow.client.redirectUri);
    expect((await redeem({ ...flow, request }, end)).claims()?.sub).toBe(other.id);
  });

  it("/account's sign-out goes on to the upstream too, and back to /account's signed-out page", async () => {
    const { flow, subject, upstreamUa } = await signedInThrough('out-on', op);
    // /account signs in through the same Gatehouse session (no second upstream trip).
    const account = await followOwn(flow.ua, await flow.ua.get('/account'), 'http://none/');
    expect(account.status).toBe(200);
    const action = formAction(account.html, '/account/logout');
    expect(action).toBeDefined();
    const page = await flow.ua.post(action ?? '', { csrf: csrfToken(account.html) });
    expect(page.status).toBe(200);
    const link = upstreamLink(page) ?? '';
    const form = logoutForm(await upstreamUa.get(link));
    const back = await upstreamUa.post(form.action, { xsrf: form.xsrf, logout: 'yes' });
    expect(op.validHints.at(-1)).toEqual({ subject, clientId: 'out-on' });
    expect(op.signedOut.at(-1)).toEqual({ accountId: subject, clientId: 'out-on' });
    const returned = await flow.ua.get(back.location ?? '');
    expect(returned.location).toBe(`${server.issuer}/account/signed-out`);
    expect(await stillSignedIn(flow)).toBe(false);
  });

  it('refuses a return with an unknown state or for another connection: the signed-out page, never a redirect elsewhere', async () => {
    const unknown = await new UserAgent(server.issuer).get('/federation/out-on/signed-out?state=forged');
    expect(unknown.status).toBe(302);
    expect(unknown.location).toBe(`${server.issuer}/session/end/success`);
    const none = await new UserAgent(server.issuer).get('/federation/out-on/signed-out');
    expect(none.location).toBe(`${server.issuer}/session/end/success`);

    const { flow, tokens } = await signedInThrough('out-on', op);
    const page = await rpLogout(flow, tokens.id_token);
    const state = new URL(upstreamLink(page) ?? 'http://missing/').searchParams.get('state') ?? '';
    const elsewhere = await flow.ua.get(`/federation/out-off/signed-out?state=${encodeURIComponent(state)}`);
    expect(elsewhere.location).toBe(`${server.issuer}/session/end/success`);
  });
});
