import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { buildAuthRequest, oidc } from '../../helpers/rp.js';
import { runAuthorization } from '../../helpers/user-agent.js';
import type { TestClient, TestUser } from '../../helpers/factories.js';
import { OFFLINE, oauthFailure, refreshTokenOf, signIn } from '../../helpers/tokens.js';
import { expectStatus, useAdminApi } from '../../helpers/admin-api.js';
import { logOutAtRp } from '../../helpers/sessions.js';

interface SessionBody {
  id: string;
  client_ids: string[];
  auth_time: number | null;
  created_at: string;
  expires_at: string | null;
}

interface GrantBody {
  id: string;
  client_id: string;
  scope: string;
  created_at: string;
}

/** /admin/api/v1/users/:id/sessions and /grants, after real sign-ins. */
describe.each(HTTP_BACKENDS)('admin API sessions and grants (%s)', (backend) => {
  let client: TestClient;
  const { server, call } = useAdminApi(backend);
  beforeAll(async () => {
    client = await server.buildClient();
  });

  const sessionsOf = async (user: TestUser) =>
    expectStatus(await call<{ items: SessionBody[] }>('GET', `/users/${user.id}/sessions`), 200).items;
  const grantsOf = async (user: TestUser) =>
    expectStatus(await call<{ items: GrantBody[] }>('GET', `/users/${user.id}/grants`), 200).items;
  /** A sign-in in its own browser, with a refresh token. */
  const offlineSignIn = async (user: TestUser) => {
    const signedIn = await signIn(server, { user, client, params: OFFLINE });
    return { ...signedIn, refreshToken: refreshTokenOf(signedIn.tokens) };
  };
  const refreshFails = async (rp: oidc.Configuration, refreshToken: string) =>
    expect(await oauthFailure(oidc.refreshTokenGrant(rp, refreshToken))).toEqual({
      status: 400,
      error: 'invalid_grant',
    });

  it('lists the session and the grant of a real sign-in', async () => {
    const user = await server.buildUser();
    expect(await sessionsOf(user)).toEqual([]);
    expect(await grantsOf(user)).toEqual([]);
    const before = Math.floor(Date.now() / 1000);
    await offlineSignIn(user);

    const sessions = await sessionsOf(user);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      id: expect.any(String),
      client_ids: [client.clientId],
      expires_at: expect.any(String),
    });
    expect(sessions[0]!.auth_time).toBeGreaterThanOrEqual(before - 1);
    const grants = await grantsOf(user);
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ client_id: client.clientId });
    expect(grants[0]!.scope.split(' ')).toEqual(expect.arrayContaining(['openid', 'offline_access']));
  });

  it('ends one session: its refresh token dies, the other session lives on', async () => {
    const user = await server.buildUser();
    const first = await offlineSignIn(user);
    const second = await offlineSignIn(user);
    const sessions = await sessionsOf(user);
    expect(sessions).toHaveLength(2);
    expect(await grantsOf(user)).toHaveLength(2);

    // Newest first: the second sign-in's session is the first item.
    const [newest, oldest] = sessions;
    expectStatus(await call('DELETE', `/users/${user.id}/sessions/${oldest!.id}`), 204);
    await refreshFails(first.rp, first.refreshToken);
    expect(refreshTokenOf(await oidc.refreshTokenGrant(second.rp, second.refreshToken))).toEqual(expect.any(String));
    expect((await sessionsOf(user)).map((s) => s.id)).toEqual([newest!.id]);
    expect(await grantsOf(user)).toHaveLength(1);

    expect((await call('DELETE', `/users/${user.id}/sessions/${oldest!.id}`)).status).toBe(404);
  });

  it('ends the browser session too: the next authorization in that browser asks for the password again', async () => {
    const user = await server.buildUser();
    const { ua, rp } = await offlineSignIn(user);
    const pagesInBrowser = async () => {
      const request = await buildAuthRequest(rp, client.redirectUri);
      return (
        await runAuthorization(ua, request.url, client.redirectUri, { email: user.email, password: user.password })
      ).pages;
    };
    expect(await pagesInBrowser()).toEqual([]);
    const [session] = await sessionsOf(user);
    expectStatus(await call('DELETE', `/users/${user.id}/sessions/${session!.id}`), 204);
    expect(await pagesInBrowser()).toEqual(['login']);
  });

  it('signs the user out everywhere: every session, grant and refresh token', async () => {
    const user = await server.buildUser();
    const signIns = [await offlineSignIn(user), await offlineSignIn(user)];
    expectStatus(await call('DELETE', `/users/${user.id}/sessions`), 204);
    for (const { rp, refreshToken } of signIns) await refreshFails(rp, refreshToken);
    expect(await sessionsOf(user)).toEqual([]);
    expect(await grantsOf(user)).toEqual([]);
  });

  it('signs out everywhere also ends offline access that outlived RP-initiated logout', async () => {
    const user = await server.buildUser();
    const { rp, refreshToken, tokens, ua } = await offlineSignIn(user);
    expect((await logOutAtRp(ua, rp, tokens.id_token)).status).toBe(303);
    expect(await sessionsOf(user)).toEqual([]);
    // The session is over; the offline grant is not (docs/sessions.md).
    expect(await grantsOf(user)).toHaveLength(1);
    const survived = refreshTokenOf(await oidc.refreshTokenGrant(rp, refreshToken));
    expectStatus(await call('DELETE', `/users/${user.id}/sessions`), 204);
    await refreshFails(rp, survived);
    expect(await grantsOf(user)).toEqual([]);
  });

  it('revokes one grant and its tokens', async () => {
    const user = await server.buildUser();
    const { rp, refreshToken, tokens } = await offlineSignIn(user);
    const [grant] = await grantsOf(user);
    expectStatus(await call('DELETE', `/users/${user.id}/grants/${grant!.id}`), 204);
    await refreshFails(rp, refreshToken);
    expect(await oidc.tokenIntrospection(rp, tokens.access_token)).toMatchObject({ active: false });
    expect(await grantsOf(user)).toEqual([]);
  });

  it("answers 404 for another user's session or grant and leaves it alone", async () => {
    const [owner, other] = [await server.buildUser(), await server.buildUser()];
    const { rp, refreshToken } = await offlineSignIn(owner);
    const [grant] = await grantsOf(owner);
    const [session] = await sessionsOf(owner);

    expect((await call('DELETE', `/users/${other.id}/grants/${grant!.id}`)).status).toBe(404);
    expect((await call('DELETE', `/users/${other.id}/sessions/${session!.id}`)).status).toBe(404);
    expect(await grantsOf(owner)).toHaveLength(1);
    expect(await sessionsOf(owner)).toHaveLength(1);
    expect(refreshTokenOf(await oidc.refreshTokenGrant(rp, refreshToken))).toEqual(expect.any(String));
  });

  it('answers 404 for an unknown user, session or grant', async () => {
    const user = await server.buildUser();
    const nobody = '00000000-0000-4000-8000-000000000000';
    for (const path of [`/users/${nobody}/sessions`, `/users/${nobody}/grants`, '/users/not-a-uuid/sessions']) {
      expect((await call('GET', path)).status).toBe(404);
    }
    expect((await call('DELETE', `/users/${nobody}/sessions`)).status).toBe(404);
    expect((await call('DELETE', `/users/${user.id}/sessions/no-such-session`)).status).toBe(404);
    expect((await call('DELETE', `/users/${user.id}/grants/no-such-grant`)).status).toBe(404);
  });
});
