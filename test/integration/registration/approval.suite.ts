import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { TEST_ACTOR } from '../../helpers/factories.js';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { basicAuthorization, type RawResponse } from '../../helpers/tokens.js';
import {
  clientRow,
  initialAccessToken,
  manage,
  REDIRECT_URI,
  register,
  signInWithRegistered,
  str,
  webClient,
} from './support.js';

describe.each(HTTP_BACKENDS)('pending approval of registered clients (%s)', (backend) => {
  // requireApproval defaults to true.
  const server = useTestServer(backend, { registration: { enabled: true } });

  async function registered(metadata: Record<string, unknown> = {}) {
    const res = await register(server, webClient(metadata), await initialAccessToken(server));
    expect(res.status).toBe(201);
    return {
      clientId: str(res.body.client_id),
      secret: typeof res.body.client_secret === 'string' ? res.body.client_secret : '',
      uri: str(res.body.registration_client_uri),
      rat: str(res.body.registration_access_token),
    };
  }

  async function postForm(
    path: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<RawResponse> {
    const res = await fetch(`${server.issuer}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    });
    return { status: res.status, body: JSON.parse(await res.text()) as Record<string, unknown> };
  }

  function authorizationUrl(clientId: string): string {
    return `${server.issuer}/auth?${new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 's',
    }).toString()}`;
  }

  const pendingRefusal = {
    status: 401,
    body: { error: 'invalid_client', error_description: expect.stringContaining('approval') },
  };

  it('stores a new registration as pending and lists it for the admin', async () => {
    const client = await registered({ client_name: 'Waiting RP' });
    expect(await clientRow(server, client.clientId)).toMatchObject({ status: 'pending', source: 'registration' });
    const pending = await server.gatehouse.admin.clients.page({ status: 'pending', limit: 200 });
    expect(pending.items.find((c) => c.id === client.clientId)).toMatchObject({
      name: 'Waiting RP',
      metadata: expect.objectContaining({ redirect_uris: [REDIRECT_URI] }),
    });
    const audit = await server.gatehouse.storage.storage.audit.query({
      clientId: client.clientId,
      action: 'client.registered',
      limit: 5,
    });
    expect(audit[0]?.details).toMatchObject({ status: 'pending' });
  });

  it('shows the approval page at the authorization endpoint (GET and POST), not a redirect', async () => {
    const client = await registered();
    const page = await fetch(authorizationUrl(client.clientId), {
      redirect: 'manual',
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('approval');

    const posted = await fetch(`${server.issuer}/auth`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URL(authorizationUrl(client.clientId)).searchParams,
    });
    expect(posted.status).toBe(400);
    expect(await posted.text()).toContain('approval');
  });

  it('answers invalid_client at the token, PAR, introspection and revocation endpoints', async () => {
    const client = await registered();
    const basic = { authorization: basicAuthorization(client.clientId, client.secret) };
    const grant = {
      grant_type: 'authorization_code',
      code: 'x',
      redirect_uri: REDIRECT_URI,
      code_verifier: 'v'.repeat(43),
    };
    expect(await postForm('/token', grant, basic)).toMatchObject(pendingRefusal);
    expect(
      await postForm('/token', { ...grant, client_id: client.clientId, client_secret: client.secret }),
    ).toMatchObject(pendingRefusal);
    expect(
      await postForm(
        '/request',
        { client_id: client.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid' },
        basic,
      ),
    ).toMatchObject(pendingRefusal);
    expect(await postForm('/token/introspection', { token: 'x' }, basic)).toMatchObject(pendingRefusal);
    expect(await postForm('/token/revocation', { token: 'x' }, basic)).toMatchObject(pendingRefusal);
  });

  it('finds the client in a private_key_jwt assertion', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const client = await registered({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] } });
    const assertion = await new SignJWT({ jti: randomBytes(8).toString('hex') })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(client.clientId)
      .setSubject(client.clientId)
      .setAudience(`${server.issuer}/token`)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(privateKey);
    expect(
      await postForm('/token', {
        grant_type: 'authorization_code',
        code: 'x',
        redirect_uri: REDIRECT_URI,
        code_verifier: 'v'.repeat(43),
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
    ).toMatchObject(pendingRefusal);
  });

  it('lets an approved client sign users in', async () => {
    const client = await registered();
    const { clients } = server.gatehouse.admin;
    expect(await clients.approve(client.clientId, TEST_ACTOR)).toMatchObject({ status: 'active' });
    await expect(clients.approve(client.clientId, TEST_ACTOR)).rejects.toMatchObject({
      name: 'InvalidInputError',
      field: 'status',
    });
    await expect(clients.approve('no-such-client', TEST_ACTOR)).rejects.toMatchObject({ name: 'NotFoundError' });
    expect((await clients.page({ status: 'pending', limit: 200 })).items.some((c) => c.id === client.clientId)).toBe(
      false,
    );
    // Admin events name the client acted on in details (clientId is the client the admin acted through).
    const approvals = await server.gatehouse.storage.storage.audit.query({ action: 'client.approved', limit: 50 });
    expect(approvals.filter((e) => e.details.client === client.clientId)).toHaveLength(1);

    const { tokens } = await signInWithRegistered(server, client.clientId, client.secret);
    expect(tokens.access_token).toEqual(expect.any(String));

    // An update of an approved client keeps it approved.
    const updated = await manage(
      client.uri,
      client.rat,
      'PUT',
      webClient({ client_id: client.clientId, client_name: 'Still approved' }),
    );
    expect(updated.status).toBe(200);
    expect(await clientRow(server, client.clientId)).toMatchObject({ status: 'active', name: 'Still approved' });
  });

  it('deletes a rejected client with its registration access token', async () => {
    const client = await registered();
    const { clients } = server.gatehouse.admin;
    await clients.reject(client.clientId, TEST_ACTOR);
    expect(await clientRow(server, client.clientId)).toBeNull();
    expect((await manage(client.uri, client.rat, 'GET')).status).toBe(401);
    await expect(clients.reject(client.clientId, TEST_ACTOR)).rejects.toMatchObject({ name: 'NotFoundError' });
    const rejections = await server.gatehouse.storage.storage.audit.query({ action: 'client.rejected', limit: 50 });
    expect(rejections.filter((e) => e.details.client === client.clientId)).toHaveLength(1);
  });

  it('never rejects an admin-created client', async () => {
    const admin = await server.buildClient();
    await expect(server.gatehouse.admin.clients.reject(admin.clientId, TEST_ACTOR)).rejects.toMatchObject({
      name: 'InvalidInputError',
      field: 'status',
    });
    expect(await clientRow(server, admin.clientId)).not.toBeNull();
  });
});
