import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { oidc } from '../../helpers/rp.js';
import { serveJsonOverHttps } from '../../helpers/loopback-https.js';
import { hashClientSecret } from '../../../src/clients/client-secret.js';
import { referenceOf } from '../../../src/storage/initial-access-token-reference.js';
import {
  clientRow,
  initialAccessToken,
  REDIRECT_URI,
  register,
  signInWithRegistered,
  str,
  webClient,
} from './support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(HTTP_BACKENDS)('dynamic client registration (%s)', (backend) => {
  const server = useTestServer(backend, { registration: { enabled: true, requireApproval: false } });

  it('advertises the registration endpoint in discovery', async () => {
    const res = await fetch(`${server.issuer}/.well-known/openid-configuration`);
    const discovery = (await res.json()) as Record<string, unknown>;
    expect(discovery.registration_endpoint).toBe(`${server.issuer}/reg`);
  });

  describe('initial access token', () => {
    it('is required: a registration without one gets 401 and registers nothing', async () => {
      const res = await register(server, webClient({ client_name: 'no token' }));
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_token');
      const rows = await server.gatehouse.storage.storage.clients.list();
      expect(rows.some((r) => r.name === 'no token')).toBe(false);
    });

    it('refuses a token it did not issue', async () => {
      expect((await register(server, webClient(), 'made-up-token')).status).toBe(401);
    });

    it('refuses an expired token', async () => {
      const token = await initialAccessToken(server, { ttlSeconds: 1 });
      await sleep(2100);
      const res = await register(server, webClient(), token);
      expect(res).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    });

    it('lists tokens by a reference, never by value, and refuses a revoked one', async () => {
      const tokens = server.gatehouse.registration.initialAccessTokens;
      const created = await tokens.create({ note: 'partner onboarding' });
      const listed = await tokens.list();
      const entry = listed.find((t) => t.id === created.id);
      expect(entry).toMatchObject({ note: 'partner onboarding' });
      expect(entry?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 6 * 24 * 3600 * 1000);
      expect(JSON.stringify(listed)).not.toContain(created.token);

      expect(await tokens.revoke(created.id)).toBe(true);
      expect((await tokens.list()).some((t) => t.id === created.id)).toBe(false);
      expect(await tokens.revoke(created.id)).toBe(false);
      expect((await register(server, webClient(), created.token)).status).toBe(401);
    });
  });

  it('registers a client with openid-client, stores only the digest of its secret, and signs a user in with it', async () => {
    const token = await initialAccessToken(server);
    const request: Partial<oidc.ClientMetadata> = {
      client_name: 'Registered RP',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'openid profile email offline_access',
    };
    const registered = await oidc.dynamicClientRegistration(new URL(server.issuer), request, undefined, {
      initialAccessToken: token,
      execute: [oidc.allowInsecureRequests],
    });
    const metadata = registered.clientMetadata();
    const clientId = registered.clientMetadata().client_id;
    const secret = str(metadata.client_secret);
    expect(clientId).toEqual(expect.any(String));
    expect(metadata.registration_access_token).toEqual(expect.any(String));

    const row = await clientRow(server, clientId);
    expect(row).toMatchObject({ source: 'registration', status: 'active', firstParty: false, name: 'Registered RP' });
    expect(row?.secretHash).toBe(hashClientSecret(secret));
    expect(JSON.stringify(row?.metadata)).not.toContain(secret);

    const audit = await server.gatehouse.storage.storage.audit.query({
      clientId,
      action: 'client.registered',
      limit: 5,
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]?.details).toMatchObject({ status: 'active', initialAccessToken: referenceOf(token) });
    expect(audit[0]?.requestId).toEqual(expect.any(String));

    // A registered client is third party: the user sees the consent page.
    const { trace, tokens } = await signInWithRegistered(server, clientId, secret);
    expect(trace.pages).toEqual(['login', 'consent']);
    expect(tokens.id_token).toEqual(expect.any(String));
    expect(tokens.claims()?.aud).toBe(clientId);
  });

  it("gives a registration without scope the policy's scopes", async () => {
    const { scope: _scope, ...withoutScope } = webClient();
    const res = await register(server, withoutScope, await initialAccessToken(server));
    expect(res.status).toBe(201);
    expect(res.body.scope).toBe('openid profile email offline_access');
  });

  describe('policy', () => {
    const refused = async (metadata: Record<string, unknown>) =>
      register(server, webClient(metadata), await initialAccessToken(server));

    it.each([
      ['an http redirect URI off loopback', 'http://app.example.com/callback', 'must use https'],
      ['a fragment', 'https://app.example.com/callback#x', 'fragment'],
      ['a wildcard', 'https://*.example.com/callback', 'wildcard'],
    ])('refuses %s with invalid_redirect_uri naming redirect_uris', async (_label, uri, words) => {
      const res = await refused({ redirect_uris: [uri] });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_redirect_uri');
      expect(res.body.error_description).toEqual(expect.stringContaining('redirect_uris'));
      expect(res.body.error_description).toEqual(expect.stringContaining(words));
    });

    it('refuses more redirect URIs than allowed', async () => {
      const uris = Array.from({ length: 11 }, (_, i) => `https://app.example.com/cb${i}`);
      expect(await refused({ redirect_uris: uris })).toMatchObject({
        status: 400,
        body: { error: 'invalid_redirect_uri' },
      });
    });

    it('keeps a logo, policy and terms on https, and refuses one in clear text naming the field', async () => {
      const links = {
        logo_uri: 'https://app.example.com/logo.png',
        policy_uri: 'https://app.example.com/privacy',
        tos_uri: 'https://app.example.com/terms',
      };
      expect(await refused(links)).toMatchObject({ status: 201, body: links });
      const res = await refused({ logo_uri: 'http://tracker.example.net/pixel.gif' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_client_metadata');
      expect(res.body.error_description).toEqual(expect.stringContaining('logo_uri'));
    });

    it('refuses a bad post_logout_redirect_uri with invalid_client_metadata naming the field', async () => {
      const res = await refused({ post_logout_redirect_uris: ['http://app.example.com/bye'] });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_client_metadata');
      expect(res.body.error_description).toEqual(expect.stringContaining('post_logout_redirect_uris'));
    });

    it.each([
      [
        'grant_types',
        { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
        'client_credentials',
      ],
      // The device code grant (RFC 8628) only where the policy lists it (test/integration/flows/device-flow.test.ts).
      [
        'grant_types',
        { grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], response_types: [], redirect_uris: [] },
        'device_code',
      ],
      ['scope', { scope: 'openid roles' }, 'roles'],
      ['token_endpoint_auth_method', { token_endpoint_auth_method: 'client_secret_jwt' }, 'client_secret_jwt'],
    ])('refuses a disallowed %s with invalid_client_metadata naming it', async (field, metadata, value) => {
      const res = await refused(metadata);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_client_metadata');
      expect(res.body.error_description).toEqual(expect.stringContaining(field));
      expect(res.body.error_description).toEqual(expect.stringContaining(value));
    });

    it("checks a pairwise client's sector_identifier_uri: one listing its redirect URIs is taken, another refused naming the field", async () => {
      const sector = await serveJsonOverHttps({
        '/ours.json': [REDIRECT_URI],
        '/theirs.json': ['https://elsewhere.example.test/callback'],
      });
      try {
        const pairwise = (path: string) => ({ subject_type: 'pairwise', sector_identifier_uri: sector.url(path) });
        const taken = await refused(pairwise('/ours.json'));
        expect(taken.status).toBe(201);
        expect(taken.body.subject_type).toBe('pairwise');
        for (const path of ['/theirs.json', '/missing.json']) {
          const res = await refused(pairwise(path));
          expect(res.status).toBe(400);
          expect(res.body.error).toBe('invalid_client_metadata');
          expect(res.body.error_description).toEqual(expect.stringContaining('sector_identifier_uri'));
        }
      } finally {
        await sector.close();
      }
    });

    it('strips gatehouse_* fields: a client cannot make itself first-party', async () => {
      const res = await refused({
        gatehouse_first_party: true,
        gatehouse_mfa: 'optional',
        gatehouse_visible_roles: ['admin'],
      });
      expect(res.status).toBe(201);
      const clientId = str(res.body.client_id);
      expect(res.body.gatehouse_first_party).not.toBe(true);
      expect(res.body.gatehouse_visible_roles).toBeUndefined();
      const row = await clientRow(server, clientId);
      expect(row?.firstParty).toBe(false);
      expect(Object.keys(row?.metadata ?? {}).filter((k) => k.startsWith('gatehouse_'))).toEqual([]);
      const { trace } = await signInWithRegistered(server, clientId, str(res.body.client_secret));
      expect(trace.pages).toContain('consent');
    });
  });
});

describe.each(HTTP_BACKENDS)('dynamic client registration disabled (%s)', (backend) => {
  const server = useTestServer(backend);

  it('is not advertised and not served by default', async () => {
    const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery.registration_endpoint).toBeUndefined();
    const token = await initialAccessToken(server);
    const res = await register(server, webClient(), token);
    expect(res.status).toBe(404);
  });
});
