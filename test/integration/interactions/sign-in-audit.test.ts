import { BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { UserAgent, runAuthorization } from '../../helpers/user-agent.js';
import { buildAuthRequest, discoverRp } from '../../helpers/rp.js';

describe.each(BACKENDS)('password sign-in security events (%s)', (backend) => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer(backend); }, 120_000);
  afterAll(async () => { await server?.close(); });

  it('records a success and a failure with its reason, never the typed identifier', async () => {
    const user = await server.buildUser();
    const client = await server.buildClient();
    const rp = await discoverRp(server.issuer, client);
    const request = await buildAuthRequest(rp, client.redirectUri);
    const ua = new UserAgent(server.issuer);
    await expect(runAuthorization(ua, request.url, client.redirectUri, { email: user.email, password: 'wrong password!' }))
      .rejects.toThrow(/401/);
    await runAuthorization(new UserAgent(server.issuer), (await buildAuthRequest(rp, client.redirectUri)).url, client.redirectUri,
      { email: user.email, password: user.password });

    const events = await server.gatehouse.storage.storage.audit.forSubject(user.id);
    const failed = events.find((e) => e.action === 'signin.password.failed');
    const succeeded = events.find((e) => e.action === 'signin.password.succeeded');
    expect(failed?.details).toEqual({ reason: 'wrong_password' });
    expect(failed?.ip).toBeTruthy();
    expect(succeeded?.actorId).toBe(user.id);
    expect(JSON.stringify(events)).not.toContain(user.email);

    const unknown = new UserAgent(server.issuer);
    await expect(runAuthorization(unknown, (await buildAuthRequest(rp, client.redirectUri)).url, client.redirectUri,
      { email: 'nobody-here@example.test', password: 'whatever it is' })).rejects.toThrow(/401/);
    const rows = await server.gatehouse.storage.storage.dataSource.query(
      "SELECT details FROM audit_events WHERE action = 'signin.password.failed' AND subject_id IS NULL") as Array<{ details: unknown }>;
    expect(rows.map((r) => r.details)).toContainEqual({ reason: 'unknown_account' });
    expect(JSON.stringify(rows)).not.toContain('nobody-here');
  });
});
