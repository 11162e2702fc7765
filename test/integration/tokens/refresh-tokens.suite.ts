import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { discoverRp, oidc } from '../../helpers/rp.js';
import { OFFLINE, introspect, oauthFailure, postToken, refreshTokenOf, signIn } from '../../helpers/tokens.js';
import { logOutAtRp } from '../../helpers/sessions.js';
import { runSql } from '../../../src/storage/data-source.js';

describe.each(HTTP_BACKENDS)('refresh tokens (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  describe('issuance', () => {
    it('issues a refresh token for offline_access with prompt=consent, and the first-party client skips the consent page', async () => {
      const { tokens, user, rp, client, pages } = await signIn(server, { params: OFFLINE });
      expect(pages).toEqual(['login']);
      const refreshToken = refreshTokenOf(tokens);
      expect(tokens.scope?.split(' ')).toEqual(expect.arrayContaining(['openid', 'offline_access']));
      const info = await introspect(rp, refreshToken);
      expect(info).toMatchObject({ active: true, sub: user.id, client_id: client.clientId });
      expect(info.scope?.split(' ')).toContain('offline_access');
    });

    it("shows a third-party client's user the consent page, then issues the refresh token", async () => {
      const client = await server.buildClient({ firstParty: false });
      const { tokens, pages, rp, user } = await signIn(server, { client, params: OFFLINE, consent: 'allow' });
      expect(pages).toEqual(['login', 'consent']);
      expect(await introspect(rp, refreshTokenOf(tokens))).toMatchObject({ active: true, sub: user.id });
    });

    it('drops offline_access without prompt=consent (OIDC Core §11); the refresh token is then bound to the session', async () => {
      const { tokens, rp } = await signIn(server, { params: { scope: OFFLINE.scope } });
      expect(tokens.access_token).toEqual(expect.any(String));
      expect(tokens.scope?.split(' ')).not.toContain('offline_access');
      const info = await introspect(rp, refreshTokenOf(tokens));
      expect(info).toMatchObject({ active: true });
      expect(info.scope?.split(' ')).not.toContain('offline_access');
    });

    it('issues no refresh token to a client without the refresh_token grant type', async () => {
      const client = await server.buildClient({ grantTypes: ['authorization_code'], scope: 'openid profile email' });
      const { tokens } = await signIn(server, { client, params: { prompt: 'consent', scope: 'openid' } });
      expect(tokens.access_token).toEqual(expect.any(String));
      expect(tokens.refresh_token).toBeUndefined();
    });
  });

  describe('bound to the session (no offline_access)', () => {
    /** A sign-in without offline_access: the refresh token every code brings a refresh_token client (issue 15 §3). */
    const sessionBound = (options: Parameters<typeof signIn>[1] = {}) =>
      signIn(server, { ...options, params: { scope: 'openid profile email', ...options.params } });
    /** Every session of the user ends as an idle timeout ends it: its row is past expires_at. */
    const expireSessions = (userId: string) =>
      runSql(
        server.gatehouse.storage.storage.dataSource,
        "UPDATE oidc_payloads SET expires_at = now() - interval '1 second' WHERE model = 'Session' AND account_id = $1",
        [userId],
      );

    it('comes with every code to a client allowed the refresh_token grant, and refreshes and rotates', async () => {
      const { tokens, rp, user } = await sessionBound();
      const first = refreshTokenOf(tokens);
      expect(tokens.scope?.split(' ')).not.toContain('offline_access');
      const second = await oidc.refreshTokenGrant(rp, first);
      const secondToken = refreshTokenOf(second);
      expect(secondToken).not.toBe(first);
      expect(second.claims()?.sub).toBe(user.id);
      expect(await introspect(rp, first)).toMatchObject({ active: false });
      expect(await introspect(rp, secondToken)).toMatchObject({ active: true, sub: user.id });
    });

    it('revokes the grant when a rotated one is presented again', async () => {
      const { tokens, rp } = await sessionBound();
      const first = refreshTokenOf(tokens);
      const newest = refreshTokenOf(await oidc.refreshTokenGrant(rp, first));
      expect(await oauthFailure(oidc.refreshTokenGrant(rp, first))).toEqual({ status: 400, error: 'invalid_grant' });
      expect(await oauthFailure(oidc.refreshTokenGrant(rp, newest))).toEqual({ status: 400, error: 'invalid_grant' });
    });

    it('stops working after RP-initiated logout (a rotated one too), while an offline_access token survives it', async () => {
      const user = await server.buildUser();
      const bound = await sessionBound({ user });
      const rotated = refreshTokenOf(await oidc.refreshTokenGrant(bound.rp, refreshTokenOf(bound.tokens)));
      // The same user at another application, with offline access (signed in in another browser).
      const offlineClient = await server.buildClient();
      const offline = await signIn(server, { user, client: offlineClient, params: OFFLINE });

      await logOutAtRp(bound.ua, bound.rp, bound.tokens.id_token);
      await logOutAtRp(offline.ua, offline.rp, offline.tokens.id_token);

      expect(await oauthFailure(oidc.refreshTokenGrant(bound.rp, rotated))).toEqual({
        status: 400,
        error: 'invalid_grant',
      });
      expect(refreshTokenOf(await oidc.refreshTokenGrant(offline.rp, refreshTokenOf(offline.tokens)))).toEqual(
        expect.any(String),
      );
    });

    it("stops working when the session is ended from the account page's code path or expires", async () => {
      const ended = await sessionBound();
      const [session] = await server.gatehouse.storage.storage.sessions.listSessions(ended.user.id);
      expect(
        await server.gatehouse.storage.storage.sessions.endSession(ended.user.id, session?.uid ?? ''),
      ).toBeDefined();
      expect(await oauthFailure(oidc.refreshTokenGrant(ended.rp, refreshTokenOf(ended.tokens)))).toEqual({
        status: 400,
        error: 'invalid_grant',
      });

      const expired = await sessionBound();
      const offline = await signIn(server, { user: expired.user, params: OFFLINE });
      await expireSessions(expired.user.id);
      expect(await oauthFailure(oidc.refreshTokenGrant(expired.rp, refreshTokenOf(expired.tokens)))).toEqual({
        status: 400,
        error: 'invalid_grant',
      });
      // Offline access does not depend on the session.
      expect(refreshTokenOf(await oidc.refreshTokenGrant(offline.rp, refreshTokenOf(offline.tokens)))).toEqual(
        expect.any(String),
      );
    });
  });

  describe('rotation', () => {
    it('rotates the refresh token on every use; each new one works and carries the same subject', async () => {
      const { tokens, rp, user } = await signIn(server, { params: OFFLINE });
      const first = refreshTokenOf(tokens);

      const second = await oidc.refreshTokenGrant(rp, first);
      const secondToken = refreshTokenOf(second);
      expect(secondToken).not.toBe(first);
      expect(second.access_token).not.toBe(tokens.access_token);
      expect(second.claims()?.sub).toBe(user.id);
      expect(await introspect(rp, second.access_token)).toMatchObject({ active: true, sub: user.id });

      const third = await oidc.refreshTokenGrant(rp, secondToken);
      const thirdToken = refreshTokenOf(third);
      expect(new Set([first, secondToken, thirdToken]).size).toBe(3);
      expect(await introspect(rp, first)).toMatchObject({ active: false });
      expect(await introspect(rp, thirdToken)).toMatchObject({ active: true, sub: user.id });
    });

    it('refuses a rotated refresh token with invalid_grant', async () => {
      const { tokens, rp } = await signIn(server, { params: OFFLINE });
      const first = refreshTokenOf(tokens);
      await oidc.refreshTokenGrant(rp, first);

      expect(await oauthFailure(oidc.refreshTokenGrant(rp, first))).toEqual({ status: 400, error: 'invalid_grant' });
    });

    it('refuses a refresh token that was never issued with invalid_grant', async () => {
      const client = await server.buildClient();
      const rp = await discoverRp(server.issuer, client);
      const forged = `${refreshTokenOf((await signIn(server, { client, rp, params: OFFLINE })).tokens)}x`;
      expect(await oauthFailure(oidc.refreshTokenGrant(rp, forged))).toEqual({ status: 400, error: 'invalid_grant' });
    });

    it('refuses a refresh token presented by another client with invalid_grant', async () => {
      const { tokens, rp } = await signIn(server, { params: OFFLINE });
      const other = await server.buildClient();
      const otherRp = await discoverRp(server.issuer, other);
      const refreshToken = refreshTokenOf(tokens);

      expect(await oauthFailure(oidc.refreshTokenGrant(otherRp, refreshToken))).toEqual({
        status: 400,
        error: 'invalid_grant',
      });
      // The owner can still use it: a stranger's attempt is not a replay of the owner's token.
      expect(refreshTokenOf(await oidc.refreshTokenGrant(rp, refreshToken))).not.toBe(refreshToken);
    });

    it('refuses to widen the scope on refresh with invalid_scope (RFC 6749 §6)', async () => {
      const { tokens, rp } = await signIn(server, { params: { ...OFFLINE, scope: 'openid offline_access' } });
      const refreshToken = refreshTokenOf(tokens);
      expect(await oauthFailure(oidc.refreshTokenGrant(rp, refreshToken, { scope: 'openid email' }))).toEqual({
        status: 400,
        error: 'invalid_scope',
      });
      // Narrowing is allowed, and the failed attempt did not spend the token.
      const narrowed = await oidc.refreshTokenGrant(rp, refreshToken, { scope: 'openid' });
      expect(narrowed.scope?.split(' ')).toEqual(['openid']);
    });

    it('refuses the refresh_token grant to a client not registered for it', async () => {
      const { tokens } = await signIn(server, { params: OFFLINE });
      const codeOnly = await server.buildClient({ grantTypes: ['authorization_code'], scope: 'openid' });
      const codeOnlyRp = await discoverRp(server.issuer, codeOnly);
      const res = await postToken(codeOnlyRp, codeOnly, {
        grant_type: 'refresh_token',
        refresh_token: refreshTokenOf(tokens),
      });
      // RFC 6749 §5.2 names this unauthorized_client; oidc-provider 9 answers invalid_request
      // (lib/actions/token.js allowedGrantTypeCheck) and Gatehouse passes that through.
      expect(res).toEqual({
        status: 400,
        body: { error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' },
      });
    });
  });

  describe('reuse detection', () => {
    it('revokes the whole grant when a rotated refresh token is presented again (RFC 9700 §4.14.2)', async () => {
      const { tokens, rp, user } = await signIn(server, { params: OFFLINE });
      const first = refreshTokenOf(tokens);
      const rotated = await oidc.refreshTokenGrant(rp, first);
      const newest = refreshTokenOf(rotated);
      expect(await introspect(rp, rotated.access_token)).toMatchObject({ active: true, sub: user.id });
      expect(await introspect(rp, newest)).toMatchObject({ active: true, sub: user.id });

      // An attacker replays the stolen, already rotated token.
      expect(await oauthFailure(oidc.refreshTokenGrant(rp, first))).toEqual({ status: 400, error: 'invalid_grant' });

      // Everything the grant produced is now dead, including the legitimate client's newest tokens.
      expect(await introspect(rp, newest)).toEqual({ active: false });
      expect(await introspect(rp, rotated.access_token)).toEqual({ active: false });
      expect(await introspect(rp, tokens.access_token)).toEqual({ active: false });
      expect(await oauthFailure(oidc.refreshTokenGrant(rp, newest))).toEqual({ status: 400, error: 'invalid_grant' });
    });

    it('leaves other grants of the same user alone when one grant is revoked for reuse', async () => {
      const user = await server.buildUser();
      const victim = await signIn(server, { user, params: OFFLINE });
      const bystanderClient = await server.buildClient();
      const bystander = await signIn(server, { user, client: bystanderClient, params: OFFLINE });

      const first = refreshTokenOf(victim.tokens);
      await oidc.refreshTokenGrant(victim.rp, first);
      await oauthFailure(oidc.refreshTokenGrant(victim.rp, first));

      expect(await introspect(bystander.rp, bystander.tokens.access_token)).toMatchObject({
        active: true,
        sub: user.id,
      });
      expect(refreshTokenOf(await oidc.refreshTokenGrant(bystander.rp, refreshTokenOf(bystander.tokens)))).toEqual(
        expect.any(String),
      );
    });
  });
});
