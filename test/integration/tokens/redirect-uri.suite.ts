import { randomBytes } from 'node:crypto';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { UserAgent, type Page } from '../../helpers/user-agent.js';
import { buildAuthRequest, discoverRp, oidc } from '../../helpers/rp.js';
import type { TestClient } from '../../helpers/factories.js';

const REGISTERED = 'http://127.0.0.1:9999/callback';

/**
 * redirect_uri is compared exactly with the registered value (RFC 9700 §4.1.3, OIDC Core
 * §3.1.2.1). A mismatch must never redirect: the OP shows its own error page (RFC 6749
 * §4.1.2.1), otherwise the code or the error would leak to the attacker's URI.
 */
describe.each(HTTP_BACKENDS)('redirect_uri checks (%s)', (backend) => {
  let client: TestClient;
  let rp: oidc.Configuration;
  const server = useSharedTestServer(backend);
  beforeAll(async () => {
    client = await server.buildClient({ redirectUris: [REGISTERED] });
    rp = await discoverRp(server.issuer, client);
  });

  async function request(redirectUri: string, clientId = client.clientId): Promise<Page> {
    const url = new URL((await buildAuthRequest(rp, redirectUri)).url);
    url.searchParams.set('client_id', clientId);
    return new UserAgent(server.issuer).get(url.toString());
  }

  function expectErrorPage(page: Page, code: string) {
    expect(page.status).toBe(400);
    expect(page.location).toBeNull();
    expect(page.headers.get('location')).toBeNull();
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.html).toContain(`<code>${code}</code>`);
  }

  it('redirects to the registered redirect_uri (the login step comes first)', async () => {
    const page = await request(REGISTERED);
    expect(page.status).toBe(303);
    expect(page.location).toMatch(new RegExp(`^${server.issuer}/interaction/`));
  });

  it.each([
    ['an unregistered host', 'https://attacker.example/callback'],
    ['a trailing slash', `${REGISTERED}/`],
    ['an extra query parameter', `${REGISTERED}?next=https://attacker.example`],
    ['a different port', 'http://127.0.0.1:9998/callback'],
    ['a different path case', 'http://127.0.0.1:9999/Callback'],
    ['a different scheme', 'https://127.0.0.1:9999/callback'],
    ['localhost for 127.0.0.1', 'http://localhost:9999/callback'],
    ['a fragment', `${REGISTERED}#x`],
  ])('renders an error page and does not redirect for %s', async (_label, redirectUri) => {
    const page = await request(redirectUri);
    expectErrorPage(page, 'invalid_redirect_uri');
    expect(page.html).not.toContain('attacker.example');
  });

  it('falls back to the only registered redirect_uri when it is omitted (RFC 6749 §3.1.2.3)', async () => {
    const url = new URL((await buildAuthRequest(rp, REGISTERED)).url);
    url.searchParams.delete('redirect_uri');
    const page = await new UserAgent(server.issuer).get(url.toString());
    expect(page.status).toBe(303);
    expect(page.location).toMatch(new RegExp(`^${server.issuer}/interaction/`));
  });

  it('renders an error page when redirect_uri is omitted and the client has several', async () => {
    const several = await server.buildClient({ redirectUris: [REGISTERED, 'http://127.0.0.1:9999/second'] });
    const severalRp = await discoverRp(server.issuer, several);
    const url = new URL((await buildAuthRequest(severalRp, REGISTERED)).url);
    url.searchParams.delete('redirect_uri');
    const page = await new UserAgent(server.issuer).get(url.toString());
    expect(page.status).toBe(400);
    expect(page.location).toBeNull();
    expect(page.html).toContain('<code>invalid_request</code>');
  });

  it('renders an error page for an unknown client_id and does not redirect, even to a registered URI', async () => {
    const page = await request(REGISTERED, `unknown-${randomBytes(8).toString('hex')}`);
    expectErrorPage(page, 'invalid_client');
  });

  it('renders an error page when client_id is missing', async () => {
    const url = new URL((await buildAuthRequest(rp, REGISTERED)).url);
    url.searchParams.delete('client_id');
    const page = await new UserAgent(server.issuer).get(url.toString());
    expect(page.status).toBe(400);
    expect(page.location).toBeNull();
  });

  it('does not let another client redeem a redirect to its own URI', async () => {
    // Another client's registered redirect URI is not this client's.
    const other = await server.buildClient({ redirectUris: ['http://127.0.0.1:7777/cb'] });
    const page = await request(other.redirectUri);
    expectErrorPage(page, 'invalid_redirect_uri');
  });
});
