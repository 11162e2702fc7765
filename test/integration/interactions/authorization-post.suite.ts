import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, useTestServer, type TestServer } from '../../helpers/server.js';
import { buildAuthRequest, oidc, redeemCode } from '../../helpers/rp.js';
import { ProxiedUserAgent, RecordingUserAgent } from '../../helpers/proxied-user-agent.js';
import { runAuthorization } from '../../helpers/user-agent.js';
import {
  BOOT_TIMEOUT,
  UserAgent,
  buildRp,
  errorCode,
  logoutForm,
  pageKind,
  paramsOf,
  signIn,
  textOf,
  withoutQuery,
  type TestRp,
} from '../../helpers/sessions.js';

/** The parameters openid-client puts in an authorization URL, to send as a form instead (OIDC Core 3.1.2.1, §13.2). */
function formOf(url: string): Record<string, string> {
  return Object.fromEntries(new URL(url).searchParams);
}

/**
 * OIDC Core 3.1.2.1: the authorization endpoint MUST accept POST as well as GET (issue 15
 * item 1; docs/decisions.md "Authorization requests by POST").
 */
describe.each(HTTP_BACKENDS)('authorization requests by POST (%s)', (backend) => {
  let server: TestServer;
  let rp: TestRp;
  const logLines: string[] = [];
  beforeAll(async () => {
    server = await startTestServer(
      backend,
      {},
      {
        logTo: {
          write: (line) => {
            logLines.push(line);
          },
        },
        logLevel: 'info',
      },
    );
    rp = await buildRp(server, { name: 'POST RP', postLogoutRedirectUris: ['http://127.0.0.1:9999/logged-out'] });
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
  });

  const authorizationEndpoint = () => rp.config.serverMetadata().authorization_endpoint ?? '';

  it('gives a code without a sign-in page to a POSTed request from a browser with a session (SSO)', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    await signIn(ua, rp, user);

    const request = await buildAuthRequest(rp.config, rp.client.redirectUri);
    const answer = await ua.post(authorizationEndpoint(), formOf(request.url));
    expect(answer.status).toBe(303);
    expect(withoutQuery(answer.location)).toBe(rp.client.redirectUri);
    const tokens = await redeemCode(rp.config, answer.location ?? '', request);
    expect(tokens.claims()?.sub).toBe(user.id);
    // Served as the GET, logged as what the client sent.
    const logged = logLines
      .map((line) => JSON.parse(line) as { msg?: string; method?: string; path?: string; status?: number })
      .filter((entry) => entry.msg === 'request' && entry.path === '/auth');
    expect(logged).toContainEqual(expect.objectContaining({ method: 'POST', status: 303 }));
  });

  it('shows the sign-in page to a POSTed request without a session, and the flow ends with a code', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const request = await buildAuthRequest(rp.config, rp.client.redirectUri);
    const answer = await ua.post(authorizationEndpoint(), formOf(request.url));
    expect(answer.status).toBe(303);
    const page = await ua.get(answer.location ?? '');
    expect(pageKind(page)).toBe('login');
    // The sign-in resumes the POSTed request as the provider's own GET resume step.
    const trace = await runAuthorization(ua, answer.location ?? '', rp.client.redirectUri, {
      email: user.email,
      password: user.password,
    });
    expect((await redeemCode(rp.config, trace.callbackUrl, request)).claims()?.sub).toBe(user.id);
  });

  it('refuses a POSTed request with a repeated parameter or no client, as it refuses the GET', async () => {
    const request = await buildAuthRequest(rp.config, rp.client.redirectUri);
    const ua = new UserAgent(server.issuer);
    // The client and redirect_uri are good, so the error goes back to the client (RFC 6749 §4.1.2.1).
    const repeated = await ua.post(authorizationEndpoint(), {
      ...formOf(request.url),
      scope: ['openid', 'openid email'],
    });
    expect(repeated.status).toBe(303);
    expect(withoutQuery(repeated.location)).toBe(rp.client.redirectUri);
    expect(paramsOf(repeated.location)).toMatchObject({ error: 'invalid_request', state: request.state });
    expect(paramsOf(repeated.location).code).toBeUndefined();
    const { client_id: _omitted, ...withoutClient } = formOf(request.url);
    const noClient = await ua.post(authorizationEndpoint(), withoutClient);
    expect(noClient.status).toBe(400);
    expect(noClient.location).toBeNull();
    expect(errorCode(noClient.html)).toBe('invalid_request');
  });

  it('does not take the parameters from a POST that is not a form: no route answers it', async () => {
    const request = await buildAuthRequest(rp.config, rp.client.redirectUri);
    const res = await fetch(authorizationEndpoint(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(formOf(request.url)),
      redirect: 'manual',
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('location')).toBeNull();
  });

  it('keeps the session cookie SameSite=Lax on an http issuer, where Secure is not possible', async () => {
    const user = await server.buildUser();
    const ua = new RecordingUserAgent(server.issuer);
    await signIn(ua, rp, user);
    const attributes = ua.attributesOf('gh_session');
    expect(attributes).toEqual(expect.arrayContaining(['samesite=lax', 'httponly']));
    expect(attributes).not.toContain('secure');
  });

  // RP-Initiated Logout 1.0 §2: the OP MUST support GET and POST at the logout endpoint.
  it('accepts the logout request by POST too', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    await signIn(ua, rp, user);
    const endSession = rp.config.serverMetadata().end_session_endpoint ?? '';
    const page = await ua.post(endSession, {
      client_id: rp.client.clientId,
      post_logout_redirect_uri: 'http://127.0.0.1:9999/logged-out',
      state: 'posted',
    });
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('Do you want to sign out');
    const done = await ua.post(logoutForm(page).action, { xsrf: logoutForm(page).xsrf, logout: 'yes' });
    expect(done.status).toBe(303);
    expect(paramsOf(done.location)).toEqual({ state: 'posted' });
  });
});

/** Under an https issuer the session cookie crosses sites on a POST: SameSite=None; Secure. */
const backend = HTTP_BACKENDS[0] ?? 'postgres';
describe(`authorization requests by POST under an https issuer (${backend})`, () => {
  const server = useTestServer(backend, { http: { trustedProxyHops: 1 } }, { issuerScheme: 'https' });

  it('sets __Host-gh_session SameSite=None; Secure, keeps the interaction cookies Lax, and a cross-site POST gets a code', async () => {
    expect(server.issuer.startsWith('https://')).toBe(true);
    const user = await server.buildUser();
    const client = await server.buildClient();
    // openid-client builds the request; discovery over https is not reachable here, so the metadata is given.
    const rpConfig = new oidc.Configuration(
      { issuer: server.issuer, authorization_endpoint: `${server.issuer}/auth` },
      client.clientId,
      client.clientSecret ?? '',
    );
    const ua = new ProxiedUserAgent(server);
    const first = await buildAuthRequest(rpConfig, client.redirectUri);
    await runAuthorization(ua, first.url, client.redirectUri, { email: user.email, password: user.password });

    expect(ua.attributesOf('__Host-gh_session')).toEqual(
      expect.arrayContaining(['samesite=none', 'secure', 'httponly', 'path=/']),
    );
    expect(ua.attributesOf('gh_interaction')).toEqual(expect.arrayContaining(['samesite=lax', 'secure', 'httponly']));

    // A form POST from the RP's site: the Origin is the RP's, the session cookie goes with it.
    const second = await buildAuthRequest(rpConfig, client.redirectUri);
    const answer = await ua.post(`${server.issuer}/auth`, formOf(second.url), { origin: 'https://rp.example.test' });
    expect(answer.status).toBe(303);
    expect(withoutQuery(answer.location)).toBe(client.redirectUri);
    expect(paramsOf(answer.location)).toMatchObject({ code: expect.any(String), state: second.state });
  });
});
