import { runSql } from '../../../src/storage/data-source.js';
import { STORE_BACKENDS } from '../../helpers/backends.js';
import { discoverRp, oidc } from '../../helpers/rp.js';
import { useTestServer } from '../../helpers/server.js';
import { authorize, introspect, OFFLINE, refreshTokenOf } from '../../helpers/tokens.js';
import { redeemCode } from '../../helpers/rp.js';
import { initialAccessToken, manage, register, str, webClient } from '../registration/support.js';

/**
 * Issue 14 §2: one read of the database yields no token that works. After a sign-in, a refresh,
 * client_credentials and a dynamic registration, no table holds any value a client received,
 * and every one of them still works.
 */
describe.each(STORE_BACKENDS)('bearer secrets are stored only as keyed digests (%s)', (backend) => {
  const server = useTestServer(backend, { registration: { enabled: true, requireApproval: false } });

  /** Every table and the values of `values` any of its rows holds, as text. */
  async function tablesHolding(values: string[]): Promise<Array<{ table: string; value: string }>> {
    const db = server.gatehouse.storage.storage.dataSource;
    const { rows: tables } = await runSql<{ name: string }>(
      db,
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
      [],
    );
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['oidc_payloads', 'audit_events', 'clients']));
    const found: Array<{ table: string; value: string }> = [];
    for (const { name } of tables) {
      const { rows } = await runSql<{ value: string }>(
        db,
        `SELECT v AS value FROM unnest($1::text[]) AS v WHERE EXISTS (SELECT 1 FROM "${name}" t WHERE position(v in t::text) > 0)`,
        [values],
      );
      found.push(...rows.map((r) => ({ table: name, value: r.value })));
    }
    return found;
  }

  it('after sign-in, refresh, client_credentials and registration no table holds a token value, and each token works', async () => {
    const authorized = await authorize(server, { params: OFFLINE });
    const { code } = authorized;
    // Before redemption the code is stored: only as its digest.
    expect(await tablesHolding([code])).toEqual([]);
    const first = await redeemCode(authorized.rp, authorized.callbackUrl, authorized.request);
    const firstRefresh = refreshTokenOf(first);
    const refreshed = await oidc.refreshTokenGrant(authorized.rp, firstRefresh);
    const refresh = refreshTokenOf(refreshed);

    const machine = await server.buildClient({
      grantTypes: ['client_credentials'],
      redirectUris: [],
      postLogoutRedirectUris: [],
      scope: 'openid',
    });
    const machineRp = await discoverRp(server.issuer, machine);
    const machineToken = (await oidc.clientCredentialsGrant(machineRp)).access_token;

    const iat = await initialAccessToken(server);
    const registered = await register(server, webClient(), iat);
    expect(registered.status).toBe(201);
    const rat = str(registered.body.registration_access_token);

    const values = [code, first.access_token, firstRefresh, refreshed.access_token, refresh, machineToken, iat, rat];
    expect(await tablesHolding(values)).toEqual([]);

    // Everything a client holds still works.
    expect(await introspect(authorized.rp, refreshed.access_token)).toMatchObject({ active: true });
    expect(await introspect(machineRp, machineToken)).toMatchObject({ active: true, client_id: machine.clientId });
    await expect(
      oidc.fetchUserInfo(authorized.rp, refreshed.access_token, oidc.skipSubjectCheck),
    ).resolves.toMatchObject({ sub: expect.any(String) });
    expect((await manage(str(registered.body.registration_client_uri), rat, 'GET')).status).toBe(200);
    const again = await oidc.refreshTokenGrant(authorized.rp, refresh);
    expect(again.access_token).toEqual(expect.any(String));
  });

  it('refuses the stored digest of a token presented as the token', async () => {
    const authorized = await authorize(server, { params: OFFLINE });
    const tokens = await redeemCode(authorized.rp, authorized.callbackUrl, authorized.request);
    const digest = (model: string, value: string) => server.gatehouse.tokenDigest.storedId(model, value);
    expect(await introspect(authorized.rp, digest('AccessToken', tokens.access_token))).toMatchObject({
      active: false,
    });
    await expect(
      oidc.refreshTokenGrant(authorized.rp, digest('RefreshToken', refreshTokenOf(tokens))),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(
      oidc.fetchUserInfo(authorized.rp, digest('AccessToken', tokens.access_token), oidc.skipSubjectCheck),
    ).rejects.toMatchObject({ status: 401 });
    // The real ones still work after those attempts.
    expect(await introspect(authorized.rp, tokens.access_token)).toMatchObject({ active: true });
  });
});
