import { randomBytes } from 'node:crypto';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, useTestServer, type TestServer } from '../../helpers/server.js';
import { UserAgent, type Page } from '../../helpers/user-agent.js';
import { accountCsrf, openAccountPage } from '../../helpers/account-pages.js';
import { startUpstreamOp, type UpstreamOp } from '../../helpers/upstream-op.js';
import { followToCallback } from '../../helpers/upstream-driver.js';
import { TEST_ACTOR } from '../../helpers/factories.js';
import { testClock } from '../../helpers/clock.js';
import { runSql } from '../../../src/storage/data-source.js';
import { federationRedirectUri } from '../../../src/federation/federation.service.js';
import { FEDERATION_COOKIE } from '../../../src/web/kit/federation.js';

/**
 * /account's "Sign-in providers" (issue 17): the identities linked to the account, unlink
 * (recent sign-in, never the last way in), and "Link" starting a round trip at a real upstream
 * OpenID provider. The callback that finishes a link is the sign-in helper's (src/web/federation/).
 */
const SECRET = `upstream-secret-${randomBytes(8).toString('hex')}`;

async function addConnections(server: TestServer, op: UpstreamOp): Promise<void> {
  for (const [id, displayName] of [
    ['corp', 'Corp SSO'],
    ['partner', 'Partner Login'],
  ] as const) {
    await server.gatehouse.admin.connections.create(
      { id, displayName, kind: 'oidc', issuer: op.issuer, clientId: id, clientSecret: SECRET },
      TEST_ACTOR,
    );
  }
}

const startOp = (server: TestServer) =>
  startUpstreamOp({
    clients: ['corp', 'partner'].map((id) => ({
      client_id: id,
      client_secret: SECRET,
      redirect_uris: [federationRedirectUri(server.issuer, id)],
    })),
  });

const linkIdentity = (server: TestServer, userId: string, connectionId = 'corp') =>
  server.gatehouse.storage.storage.identities.link({
    connectionId,
    subject: `sub-${randomBytes(6).toString('hex')}`,
    userId,
    email: 'ada@corp.example',
  });

const listed = (page: Page) => [...page.html.matchAll(/data-identity="([^"]+)"/g)].map((m) => m[1]);
const linkable = (page: Page) => [...page.html.matchAll(/data-linkable-connection="([^"]+)"/g)].map((m) => m[1]);

describe.each(HTTP_BACKENDS)('/account: linked identities (%s)', (backend) => {
  const server = useTestServer(backend);
  let op: UpstreamOp;
  beforeAll(async () => {
    op = await startOp(server);
    await addConnections(server, op);
  });
  afterAll(async () => {
    await op?.close();
  });

  it('lists the linked identities with their provider, address and dates, and offers the others to link', async () => {
    const user = await server.buildUser();
    await linkIdentity(server, user.id);
    const page = await openAccountPage(new UserAgent(server.issuer), user.email, user.password);
    expect(page.html).toContain('<h2 id="linked-identities-heading">Sign-in providers</h2>');
    expect(listed(page)).toEqual(['corp']);
    expect(page.html).toContain('data-identity-name>Corp SSO<');
    expect(page.html).toContain('data-identity-email>ada@corp.example<');
    expect(page.html).toMatch(/data-identity-linked>[^<]*\d{4}/);
    expect(linkable(page)).toEqual(['partner']);
    expect(page.html).toContain('Link Partner Login');
    // The Link button's redirect may reach the upstream (Chromium applies form-action to it).
    expect(page.headers.get('content-security-policy')).toContain(`form-action 'self' ${new URL(op.issuer).origin}`);
    // In German too.
    const german = await new UserAgent(server.issuer, { 'accept-language': 'de' });
    const dePage = await openAccountPage(german, user.email, user.password);
    expect(dePage.html).toContain('Anmeldeanbieter');
    expect(dePage.html).toContain('Partner Login verknüpfen');
  });

  it('unlinks an identity when a password is left, and says so', async () => {
    const user = await server.buildUser();
    await linkIdentity(server, user.id);
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    const done = await ua.post('/account/identities/corp/unlink', { csrf: accountCsrf(page) });
    expect(done.status).toBe(303);
    expect(done.location).toBe(`${server.issuer}/account?done=identity-unlinked#linked-identities`);
    expect(await server.gatehouse.storage.storage.identities.listForUser(user.id)).toEqual([]);
    const after = await ua.get(done.location ?? '');
    expect(after.html).toContain('data-identities-notice>The account was unlinked');
    expect(listed(after)).toEqual([]);
    const audit = await server.gatehouse.storage.storage.audit.forSubject(user.id, 5);
    expect(audit.map((e) => e.action)).toContain('federation.identity_unlinked');
  });

  it('refuses to unlink the last way to sign in, with the reason, and keeps the identity', async () => {
    const user = await server.buildUser();
    await linkIdentity(server, user.id);
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    // The password goes (as for an account made at a first upstream sign-in): the identity is all that is left.
    await runSql(server.gatehouse.storage.storage.dataSource, `DELETE FROM credentials WHERE user_id = $1`, [user.id]);
    const refused = await ua.post('/account/identities/corp/unlink', { csrf: accountCsrf(page) });
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('data-identities-error>This is the only way left to sign in to your account.');
    expect(await server.gatehouse.storage.storage.identities.listForUser(user.id)).toHaveLength(1);
  });

  it('refuses a forged form, a malformed or unknown connection, and an identity that is not linked', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    expect((await ua.post('/account/identities/corp/unlink', { csrf: 'forged' })).status).toBe(403);
    expect((await ua.post('/account/identities/corp/link', { csrf: 'forged' })).status).toBe(403);
    const csrf = accountCsrf(page);
    const malformed = await ua.post('/account/identities/NOT%20A%20SLUG/link', { csrf });
    expect(malformed.status).toBe(400);
    expect(malformed.html).toContain('That is not a sign-in provider of this site.');
    const unknown = await ua.post('/account/identities/no-such/link', { csrf });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.getSetCookie().join()).not.toContain(FEDERATION_COOKIE);
    const notLinked = await ua.post('/account/identities/corp/unlink', { csrf });
    expect(notLinked.status).toBe(404);
    expect(notLinked.html).toContain('That account is not linked to yours.');
  });

  it('Link sends the browser to the upstream with state, nonce and PKCE, bound to it by a cookie for the callback', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    const started = await ua.post('/account/identities/partner/link', { csrf: accountCsrf(page) });
    expect(started.status).toBe(303);
    const url = new URL(started.location ?? '');
    expect(url.origin).toBe(new URL(op.issuer).origin);
    expect(url.searchParams.get('client_id')).toBe('partner');
    expect(url.searchParams.get('redirect_uri')).toBe(federationRedirectUri(server.issuer, 'partner'));
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
    expect(url.searchParams.get('nonce')).toMatch(/^[\w-]{20,}$/);
    const cookie = started.headers.getSetCookie().find((c) => c.startsWith(`${FEDERATION_COOKIE}=`));
    expect(cookie).toMatch(/path=\/federation\/partner\/callback/i);
    expect(cookie).toMatch(/httponly/i);
    expect(cookie).toMatch(/samesite=lax/i);
    // The upstream knows the request: its sign-in starts (an interaction of its own).
    const atUpstream = await fetch(url, { redirect: 'manual' });
    expect(atUpstream.status).toBe(303);
    expect(atUpstream.headers.get('location')).toMatch(/\/interaction\//);
  });

  it('links through the upstream and comes back to /account with the notice; the replayed callback links nothing more', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    const subject = `sub-${randomBytes(6).toString('hex')}`;
    op.setAccount(subject, { email: `other-${user.email}`, email_verified: true });
    op.login = { accountId: subject };
    const started = await ua.post('/account/identities/partner/link', { csrf: accountCsrf(page) });
    const callbackUri = federationRedirectUri(server.issuer, 'partner');
    const callback = `${callbackUri}?${new URLSearchParams(await followToCallback(started.location ?? '', callbackUri))}`;
    const back = await ua.get(callback);
    expect(back.status).toBeGreaterThanOrEqual(300);
    expect(back.status).toBeLessThan(400);
    expect(new URL(back.location ?? '').pathname).toBe('/account');
    const after = await ua.get(back.location ?? '');
    expect(listed(after)).toEqual(['partner']);
    expect(after.html).toContain('The account was linked: you can now sign in with it.');
    const identities = await server.gatehouse.storage.storage.identities.listForUser(user.id);
    expect(identities.map((i) => [i.connectionId, i.subject])).toEqual([['partner', subject]]);

    // The same callback again: its state was used and its cookie is gone, so it ends on the
    // error page (which cannot know it came from /account any more), and nothing changes.
    const replayed = await ua.get(callback);
    expect(replayed.status).toBe(400);
    expect(replayed.html).toContain('<code>state_mismatch</code>');
    expect(replayed.html).toContain('or it was used already');
    expect(await server.gatehouse.storage.storage.identities.listForUser(user.id)).toHaveLength(1);
  });

  it('asks an already linked identity to be unlinked first instead of starting another round trip', async () => {
    const user = await server.buildUser();
    await linkIdentity(server, user.id, 'partner');
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    expect(linkable(page)).toEqual(['corp']);
    const again = await ua.post('/account/identities/partner/link', { csrf: accountCsrf(page) });
    expect(again.status).toBe(409);
    expect(again.html).toContain('That account is linked already.');
  });
});

describe.each(HTTP_BACKENDS)('/account: linking needs a recent sign-in (%s)', (backend) => {
  it('sends an old sign-in to sign in again before unlink or link, and changes nothing', async () => {
    const clock = testClock();
    const server = await startTestServer(
      backend,
      { mfa: { policy: 'optional', reauthenticationSeconds: 1, totpIssuer: 'Gatehouse' } },
      { clock: clock.now },
    );
    const op = await startOp(server);
    try {
      await addConnections(server, op);
      const user = await server.buildUser();
      await linkIdentity(server, user.id);
      const ua = new UserAgent(server.issuer);
      const page = await openAccountPage(ua, user.email, user.password);
      clock.advance(2100);
      for (const path of ['/account/identities/corp/unlink', '/account/identities/partner/link']) {
        const asked = await ua.post(path, { csrf: accountCsrf(page) });
        expect(asked.status).toBe(303);
        expect(asked.location).toContain('/account/login?reauth=1');
      }
      expect(await server.gatehouse.storage.storage.identities.listForUser(user.id)).toHaveLength(1);
    } finally {
      await op.close();
      await server.close();
    }
  }, 120_000);
});
