import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer, useTestServer } from '../../helpers/server.js';
import { UserAgent, runAuthorization } from '../../helpers/user-agent.js';
import { buildAuthRequest, discoverRp, oidc } from '../../helpers/rp.js';
import { OFFLINE, refreshTokenOf, signIn } from '../../helpers/tokens.js';

describe.each(HTTP_BACKENDS)('password sign-in security events (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  it('records a success and a failure with its reason, never the typed identifier', async () => {
    const user = await server.buildUser();
    const client = await server.buildClient();
    const rp = await discoverRp(server.issuer, client);
    const request = await buildAuthRequest(rp, client.redirectUri);
    const ua = new UserAgent(server.issuer);
    await expect(
      runAuthorization(ua, request.url, client.redirectUri, { email: user.email, password: 'wrong password!' }),
    ).rejects.toThrow(/401/);
    await runAuthorization(
      new UserAgent(server.issuer),
      (await buildAuthRequest(rp, client.redirectUri)).url,
      client.redirectUri,
      { email: user.email, password: user.password },
    );

    const events = await server.gatehouse.storage.storage.audit.forSubject(user.id);
    const failed = events.find((e) => e.action === 'signin.password.failed');
    const succeeded = events.find((e) => e.action === 'signin.password.succeeded');
    expect(failed?.details).toEqual({ reason: 'wrong_password' });
    expect(failed?.ip).toBeTruthy();
    expect(succeeded?.actorId).toBe(user.id);
    expect(JSON.stringify(events)).not.toContain(user.email);

    const unknown = new UserAgent(server.issuer);
    await expect(
      runAuthorization(unknown, (await buildAuthRequest(rp, client.redirectUri)).url, client.redirectUri, {
        email: 'nobody-here@example.test',
        password: 'whatever it is',
      }),
    ).rejects.toThrow(/401/);
    const rows = (await server.gatehouse.storage.storage.dataSource.query(
      "SELECT details FROM audit_events WHERE action = 'signin.password.failed' AND subject_id IS NULL",
    )) as Array<{ details: unknown }>;
    expect(rows.map((r) => r.details)).toContainEqual({ reason: 'unknown_account' });
    expect(JSON.stringify(rows)).not.toContain('nobody-here');
  });
});

describe.each(HTTP_BACKENDS)('lockout and token reuse security events (%s)', (backend) => {
  const server = useTestServer(backend, { lockout: { freeFailures: 2 } });

  it('records a lockout once, when the failures reach the limit, with the request id', async () => {
    const user = await server.buildUser();
    const client = await server.buildClient();
    const rp = await discoverRp(server.issuer, client);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await expect(
        runAuthorization(
          new UserAgent(server.issuer),
          (await buildAuthRequest(rp, client.redirectUri)).url,
          client.redirectUri,
          { email: user.email, password: 'wrong password!' },
        ),
      ).rejects.toThrow(/40\d|429/);
    }
    const events = await server.gatehouse.storage.storage.audit.forSubject(user.id);
    const lockouts = events.filter((e) => e.action === 'signin.locked_out');
    expect(lockouts).toHaveLength(1);
    expect(lockouts[0]?.details).toEqual({ factor: 'password', scope: 'address', waitSeconds: 30 });
    expect(lockouts[0]?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('records refresh token reuse with the client and the account', async () => {
    const signedIn = await signIn(server, { params: OFFLINE });
    const first = refreshTokenOf(signedIn.tokens);
    await oidc.refreshTokenGrant(signedIn.rp, first);
    await expect(oidc.refreshTokenGrant(signedIn.rp, first)).rejects.toThrow();
    // The provider reports the reuse through an event after answering, so the row lands just after.
    let rows: Array<{ subject_id: string; client_id: string }> = [];
    for (let waited = 0; rows.length === 0 && waited < 5000; waited += 100) {
      rows = (await server.gatehouse.storage.storage.dataSource.query(
        "SELECT subject_id, client_id FROM audit_events WHERE action = 'refresh_token.reuse_detected'",
      )) as typeof rows;
      if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(rows).toEqual([{ subject_id: signedIn.user.id, client_id: signedIn.client.clientId }]);
  });
});
