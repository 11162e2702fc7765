import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { basicAuthorization } from '../../helpers/tokens.js';
import { clientRow, initialAccessToken, manage, register, signInWithRegistered, str, webClient } from './support.js';

interface Registered {
  clientId: string;
  secret: string;
  uri: string;
  rat: string;
}

describe.each(HTTP_BACKENDS)('client configuration endpoint, RFC 7592 (%s)', (backend) => {
  const server = useTestServer(backend, { registration: { enabled: true, requireApproval: false } });

  async function registered(metadata: Record<string, unknown> = {}): Promise<Registered> {
    const res = await register(server, webClient(metadata), await initialAccessToken(server));
    expect(res.status).toBe(201);
    return {
      clientId: str(res.body.client_id),
      secret: str(res.body.client_secret),
      uri: str(res.body.registration_client_uri),
      rat: str(res.body.registration_access_token),
    };
  }

  async function digestOf(clientId: string): Promise<string> {
    return str((await clientRow(server, clientId))?.secretHash);
  }

  it('reads the registration with the registration access token, without any secret or digest', async () => {
    const client = await registered();
    const res = await manage(client.uri, client.rat, 'GET');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ client_id: client.clientId, redirect_uris: ['http://127.0.0.1:9999/callback'] });
    expect(res.body).not.toHaveProperty('client_secret');
    expect(res.body).not.toHaveProperty('client_secret_expires_at');
    expect(JSON.stringify(res.body)).not.toContain(await digestOf(client.clientId));
  });

  it("refuses a read with a wrong token or another client's token", async () => {
    const client = await registered();
    const other = await registered();
    expect((await manage(client.uri, 'not-a-token', 'GET')).status).toBe(401);
    expect((await manage(client.uri, other.rat, 'GET')).status).toBe(401);
  });

  it("updates the registration with the client's secret, keeps the secret working and never returns the digest", async () => {
    const client = await registered();
    const digest = await digestOf(client.clientId);
    const update = webClient({
      client_id: client.clientId,
      client_secret: client.secret,
      client_name: 'Renamed RP',
      redirect_uris: ['http://127.0.0.1:9999/callback', 'https://app.example.com/callback'],
    });
    const res = await manage(client.uri, client.rat, 'PUT', update);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ client_name: 'Renamed RP', redirect_uris: update.redirect_uris });
    expect(res.body).not.toHaveProperty('client_secret');
    expect(JSON.stringify(res.body)).not.toContain(digest);

    const row = await clientRow(server, client.clientId);
    expect(row).toMatchObject({ name: 'Renamed RP', secretHash: digest, status: 'active', source: 'registration' });
    const audit = await server.gatehouse.storage.storage.audit.query({
      clientId: client.clientId,
      action: 'client.updated',
      limit: 5,
    });
    expect(audit).toHaveLength(1);

    // The access token is rotated on update (the old one stops working).
    const rotated = str(res.body.registration_access_token);
    expect(rotated).not.toBe(client.rat);
    expect((await manage(client.uri, client.rat, 'GET')).status).toBe(401);
    expect((await manage(client.uri, rotated, 'GET')).status).toBe(200);

    const { tokens } = await signInWithRegistered(server, client.clientId, client.secret);
    expect(tokens.access_token).toEqual(expect.any(String));
  });

  it('refuses an update carrying a wrong client_secret', async () => {
    const client = await registered();
    const res = await manage(
      client.uri,
      client.rat,
      'PUT',
      webClient({ client_id: client.clientId, client_secret: 'wrong' }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(String(res.body.error_description)).toContain('client_secret');
  });

  it('refuses an update carrying the stored digest as client_secret', async () => {
    const client = await registered();
    const res = await manage(
      client.uri,
      client.rat,
      'PUT',
      webClient({ client_id: client.clientId, client_secret: await digestOf(client.clientId) }),
    );
    expect(res.status).toBe(400);
  });

  it('holds updates to the registration policy', async () => {
    const client = await registered();
    const res = await manage(
      client.uri,
      client.rat,
      'PUT',
      webClient({
        client_id: client.clientId,
        redirect_uris: ['http://app.example.com/callback'],
      }),
    );
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_redirect_uri' } });
    const promoted = await manage(
      client.uri,
      client.rat,
      'PUT',
      webClient({ client_id: client.clientId, gatehouse_first_party: true }),
    );
    expect(promoted.status).toBe(200);
    expect((await clientRow(server, client.clientId))?.firstParty).toBe(false);
  });

  it('deletes the client, its registration access token and its tokens', async () => {
    const client = await registered();
    await signInWithRegistered(server, client.clientId, client.secret);
    const res = await manage(client.uri, client.rat, 'DELETE');
    expect(res.status).toBe(204);
    expect(await clientRow(server, client.clientId)).toBeNull();
    expect((await manage(client.uri, client.rat, 'GET')).status).toBe(401);

    const remaining = (await server.gatehouse.storage.storage.dataSource.query(
      "SELECT model FROM oidc_payloads WHERE payload->>'clientId' = $1",
      [client.clientId],
    )) as unknown[];
    expect(remaining).toEqual([]);
    // Its secret no longer authenticates anything.
    const token = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuthorization(client.clientId, client.secret),
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'any' }),
    });
    expect(token.status).toBe(401);
    const audit = await server.gatehouse.storage.storage.audit.query({
      clientId: client.clientId,
      action: 'client.deleted',
      limit: 5,
    });
    expect(audit).toHaveLength(1);
  });
});
