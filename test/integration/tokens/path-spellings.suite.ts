import { request } from 'node:http';
import { hashClientSecret } from '../../../src/clients/client-secret.js';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { basicAuthorization } from '../../helpers/tokens.js';
import { initialAccessToken, register, str, webClient, REDIRECT_URI } from '../registration/support.js';

/**
 * Issue 14 §1: every spelling of a provider endpoint either passes the guard we put in front of
 * that endpoint or is a 404 — never the provider unguarded. oidc-provider routes letter case and
 * one trailing slash to the endpoint; the other spellings must route nowhere.
 */
interface Answer {
  status: number;
  body: string;
}

/** A request with exactly this path: fetch would resolve `/./` and could re-encode. */
function send(
  issuer: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  const { hostname, port } = new URL(issuer);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        method,
        path,
        headers: { ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };

/** Spellings the provider routes to the endpoint `path`, then spellings it routes nowhere. */
function routedSpellings(path: string): string[] {
  const mixed = [...path].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join('');
  return [path, path.toUpperCase(), mixed, `${path}/`, `${path.toUpperCase()}/`];
}
function unroutedSpellings(path: string): string[] {
  const letter = path.charCodeAt(1).toString(16);
  return [
    `/${path}`,
    `/%${letter}${path.slice(2)}`,
    `${path};x`,
    `/.${path}`,
    `${path}//`,
    path.replace(/\/([^/]*)$/, '//$1'),
  ];
}

describe.each(HTTP_BACKENDS)('every spelling of a provider endpoint meets its guard or a 404 (%s)', (backend) => {
  const server = useTestServer(backend, {
    registration: { enabled: true },
    rateLimits: { tokenClient: { points: 2, durationSeconds: 600 } },
  });

  async function machineClient() {
    const client = await server.buildClient({
      grantTypes: ['client_credentials'],
      redirectUris: [],
      postLogoutRedirectUris: [],
      scope: 'openid',
      firstParty: false,
    });
    return { id: client.clientId, secret: str(client.clientSecret) };
  }

  const clientAuthEndpoints: Array<{ path: string; form: Record<string, string> }> = [
    { path: '/token', form: { grant_type: 'client_credentials' } },
    { path: '/token/introspection', form: { token: 'not-a-token' } },
    { path: '/token/revocation', form: { token: 'not-a-token' } },
    { path: '/request', form: { response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid' } },
  ];

  it.each(clientAuthEndpoints)(
    '$path: the stored digest of a client secret never authenticates; the secret does where the path routes',
    async ({ path, form }) => {
      for (const spelling of routedSpellings(path)) {
        // A client per spelling: the token endpoint's per-client limit is 2 in this server.
        const client = await machineClient();
        const asDigest = await send(
          server.issuer,
          'POST',
          spelling,
          { ...FORM, authorization: basicAuthorization(client.id, hashClientSecret(client.secret)) },
          new URLSearchParams(form).toString(),
        );
        expect({ spelling, status: asDigest.status }).toEqual({ spelling, status: 401 });
        expect(asDigest.body).toContain('invalid_client');
        const asSecret = await send(
          server.issuer,
          'POST',
          spelling,
          { ...FORM, authorization: basicAuthorization(client.id, client.secret) },
          new URLSearchParams(form).toString(),
        );
        // PAR refuses this client for its grant types; every other endpoint answers 200.
        expect({ spelling, ok: asSecret.status === 200 || (path === '/request' && asSecret.status === 400) }).toEqual({
          spelling,
          ok: true,
        });
        expect(asSecret.body).not.toContain('invalid_client');
      }
      const client = await machineClient();
      for (const spelling of unroutedSpellings(path)) {
        for (const secret of [client.secret, hashClientSecret(client.secret)]) {
          const answer = await send(
            server.issuer,
            'POST',
            spelling,
            { ...FORM, authorization: basicAuthorization(client.id, secret) },
            new URLSearchParams(form).toString(),
          );
          expect({ spelling, status: answer.status }).toEqual({ spelling, status: 404 });
        }
      }
    },
  );

  it("the token endpoint counts every spelling against the client's limit", async () => {
    const client = await machineClient();
    const statuses: number[] = [];
    for (const spelling of routedSpellings('/token')) {
      const answer = await send(
        server.issuer,
        'POST',
        spelling,
        { ...FORM, authorization: basicAuthorization(client.id, client.secret) },
        'grant_type=client_credentials',
      );
      statuses.push(answer.status);
    }
    expect(statuses).toEqual([200, 200, 429, 429, 429]);
  });

  it('a pending client is refused at every spelling of the authorization and token endpoints', async () => {
    const pendingClient = async () => {
      const registered = await register(server, webClient(), await initialAccessToken(server));
      expect(registered.status).toBe(201);
      return { clientId: str(registered.body.client_id), secret: str(registered.body.client_secret) };
    };
    const { clientId } = await pendingClient();
    const query = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      state: 's',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    for (const spelling of routedSpellings('/auth')) {
      const page = await send(server.issuer, 'GET', `${spelling}?${query}`, { accept: 'text/html' });
      expect({ spelling, status: page.status }).toEqual({ spelling, status: 400 });
      expect(page.body).toContain('approval');
    }
    for (const spelling of unroutedSpellings('/auth')) {
      expect({
        spelling,
        status: (await send(server.issuer, 'GET', `${spelling}?${query}`, { accept: 'text/html' })).status,
      }).toEqual({ spelling, status: 404 });
    }
    const grant = new URLSearchParams({
      grant_type: 'authorization_code',
      code: 'x',
      redirect_uri: REDIRECT_URI,
      code_verifier: 'v'.repeat(43),
    }).toString();
    for (const spelling of routedSpellings('/token')) {
      // A client per spelling: the token endpoint's per-client limit is 2 in this server.
      const client = await pendingClient();
      const answer = await send(
        server.issuer,
        'POST',
        spelling,
        { ...FORM, authorization: basicAuthorization(client.clientId, client.secret) },
        grant,
      );
      expect({ spelling, status: answer.status }).toEqual({ spelling, status: 401 });
      expect(answer.body).toContain('approval');
    }
  });

  it('the client configuration endpoint never shows the stored secret digest, in any spelling', async () => {
    const registered = await register(server, webClient(), await initialAccessToken(server));
    const clientId = str(registered.body.client_id);
    const rat = str(registered.body.registration_access_token);
    const encodedId = [...clientId].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    const spellings = [
      ...routedSpellings('/reg').map((reg) => `${reg.replace(/\/$/, '')}/${clientId}`),
      `/REG/${clientId}/`,
      `/reg/${encodedId}`,
    ];
    for (const spelling of spellings) {
      const answer = await send(server.issuer, 'GET', spelling, {
        authorization: `Bearer ${rat}`,
        accept: 'application/json',
      });
      expect({ spelling, status: answer.status }).toEqual({ spelling, status: 200 });
      const body = JSON.parse(answer.body) as Record<string, unknown>;
      expect(body.client_id).toBe(clientId);
      expect(body).not.toHaveProperty('client_secret');
    }
    for (const spelling of unroutedSpellings('/reg').map((reg) => `${reg}/${clientId}`)) {
      expect({
        spelling,
        status: (await send(server.issuer, 'GET', spelling, { authorization: `Bearer ${rat}` })).status,
      }).toEqual({ spelling, status: 404 });
    }
  });
});
