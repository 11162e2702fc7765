import { request as httpRequest } from 'node:http';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { csrfToken } from '../../helpers/user-agent.js';
import {
  UserAgent,
  actionOf,
  buildRp,
  openAuthorization,
  pageKind,
  signIn,
  type TestRp,
} from '../../helpers/sessions.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends exactly the bytes asked for (fetch would normalise some of them) on a connection of
 * its own (a refused oversized body may leave a kept-alive socket dead): any method, path,
 * header and body, with no cookie handling.
 */
function send(
  issuer: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<RawResponse> {
  const { hostname, port } = new URL(issuer);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: hostname,
        port,
        method,
        path,
        agent: false,
        headers: { ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Probe {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** '4xx' unless the endpoint may answer a bad request by redirecting to the client. */
  expect?: '4xx' | 'below-500';
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };
const SQLISH = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '1) UNION SELECT password_hash FROM credentials --',
  '\\x00\'"`;',
];
const UNICODE = ['𝓤𝓷𝓲𝓬𝓸𝓭𝓮 ☃ 中文', 'e\u0301\u200b\u202e\ufeff', '\u0000\u0001\u001f'];
const BIG = 'A'.repeat(200_000);
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const qs = (params: Record<string, string>) => new URLSearchParams(params).toString();

/** Requests that need no session: every protocol endpoint with bad input. */
function protocolProbes(rp: TestRp): Probe[] {
  const client = rp.client.clientId;
  const redirect = rp.client.redirectUri;
  const auth = {
    client_id: client,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: redirect,
    code_challenge: 'x'.repeat(43),
    code_challenge_method: 'S256',
  };
  const probes: Probe[] = [
    { name: '/auth without parameters', method: 'GET', path: '/auth' },
    { name: '/auth unknown client', method: 'GET', path: `/auth?${qs({ ...auth, client_id: 'nope' })}` },
    {
      name: '/auth unregistered redirect_uri',
      method: 'GET',
      path: `/auth?${qs({ ...auth, redirect_uri: 'https://evil.example/cb' })}`,
    },
    { name: '/auth repeated client_id', method: 'GET', path: `/auth?${qs(auth)}&client_id=other` },
    {
      name: '/auth repeated redirect_uri',
      method: 'GET',
      path: `/auth?${qs(auth)}&redirect_uri=${encodeURIComponent(redirect)}`,
      expect: 'below-500',
    },
    { name: '/auth broken percent-encoding', method: 'GET', path: `/auth?client_id=%E0%A4%A&redirect_uri=%ff%fe%` },
    {
      name: '/auth huge query',
      method: 'GET',
      path: `/auth?${qs({ ...auth, state: 'S'.repeat(7000) })}`,
      expect: 'below-500',
    },
    {
      name: '/auth bad response_type',
      method: 'GET',
      path: `/auth?${qs({ ...auth, response_type: 'token id_token' })}`,
      expect: 'below-500',
    },
    {
      name: '/auth bad scope',
      method: 'GET',
      path: `/auth?${qs({ ...auth, scope: "openid' OR 1=1" })}`,
      expect: 'below-500',
    },
    {
      name: '/auth plain PKCE',
      method: 'GET',
      path: `/auth?${qs({ ...auth, code_challenge_method: 'plain' })}`,
      expect: 'below-500',
    },
    {
      name: '/auth claims not JSON',
      method: 'GET',
      path: `/auth?${qs({ ...auth, claims: '{"id_token":' })}`,
      expect: 'below-500',
    },
    {
      name: '/auth request object garbage',
      method: 'GET',
      path: `/auth?${qs({ ...auth, request: 'a.b.c' })}`,
      expect: 'below-500',
    },
    { name: '/auth POST invalid JSON', method: 'POST', path: '/auth', headers: JSON_TYPE, body: '{"client_id":' },
    {
      name: '/auth POST wrong content type',
      method: 'POST',
      path: '/auth',
      headers: { 'content-type': 'text/xml' },
      body: '<a/>',
    },
    {
      name: '/auth POST oversized form',
      method: 'POST',
      path: '/auth',
      headers: FORM,
      body: qs({ ...auth, state: BIG }),
      expect: 'below-500',
    },
    { name: '/auth DELETE', method: 'DELETE', path: `/auth?${qs(auth)}` },

    { name: '/token without body', method: 'POST', path: '/token' },
    { name: '/token GET', method: 'GET', path: '/token' },
    { name: '/token invalid JSON', method: 'POST', path: '/token', headers: JSON_TYPE, body: '{"grant_type":' },
    {
      name: '/token JSON body',
      method: 'POST',
      path: '/token',
      headers: { ...JSON_TYPE, authorization: basic(client, 'x') },
      body: '{"grant_type":"client_credentials"}',
    },
    {
      name: '/token multipart garbage',
      method: 'POST',
      path: '/token',
      headers: { 'content-type': 'multipart/form-data; boundary=zz' },
      body: '--zz\r\nbroken',
    },
    {
      name: '/token text/plain',
      method: 'POST',
      path: '/token',
      headers: { 'content-type': 'text/plain' },
      body: 'grant_type=authorization_code',
    },
    {
      name: '/token unknown grant',
      method: 'POST',
      path: '/token',
      headers: { ...FORM, authorization: basic(client, 'x') },
      body: qs({ grant_type: "password' OR 1=1" }),
    },
    {
      name: '/token repeated grant_type',
      method: 'POST',
      path: '/token',
      headers: { ...FORM, authorization: basic(client, 'x') },
      body: 'grant_type=authorization_code&grant_type=refresh_token&code=a',
    },
    {
      name: '/token garbage Basic',
      method: 'POST',
      path: '/token',
      headers: { ...FORM, authorization: 'Basic !!!not-base64!!!' },
      body: qs({ grant_type: 'authorization_code', code: 'x' }),
    },
    {
      name: '/token Basic without colon',
      method: 'POST',
      path: '/token',
      headers: { ...FORM, authorization: `Basic ${Buffer.from('justone').toString('base64')}` },
      body: qs({ grant_type: 'authorization_code', code: 'x' }),
    },
    {
      name: '/token Basic with broken percent-encoding',
      method: 'POST',
      path: '/token',
      headers: { ...FORM, authorization: basic('%E0%A4%A', '%zz') },
      body: qs({ grant_type: 'authorization_code', code: 'x' }),
    },
    {
      name: '/token Basic huge secret',
      method: 'POST',
      path: '/token',
      headers: { ...FORM, authorization: basic(client, 'S'.repeat(6000)) },
      body: qs({ grant_type: 'authorization_code', code: 'x' }),
    },
    {
      name: '/token two client auth methods',
      method: 'POST',
      path: '/token',
      headers: { ...FORM, authorization: basic(client, 'x') },
      body: qs({ grant_type: 'authorization_code', code: 'x', client_id: client, client_secret: 'y' }),
    },
    {
      name: '/token client_secret_post array',
      method: 'POST',
      path: '/token',
      headers: FORM,
      body: `grant_type=authorization_code&code=x&client_id=${client}&client_secret=a&client_secret=b`,
    },
    {
      name: '/token oversized form',
      method: 'POST',
      path: '/token',
      headers: FORM,
      body: qs({ grant_type: 'authorization_code', code: BIG, client_id: client }),
    },
    {
      name: '/token client_assertion garbage',
      method: 'POST',
      path: '/token',
      headers: FORM,
      body: qs({
        grant_type: 'authorization_code',
        code: 'x',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: 'a.b.c',
      }),
    },

    { name: '/me without token', method: 'GET', path: '/me' },
    { name: '/me garbage bearer', method: 'GET', path: '/me', headers: { authorization: 'Bearer ../../etc/passwd' } },
    { name: '/me huge bearer', method: 'GET', path: '/me', headers: { authorization: `Bearer ${'t'.repeat(8000)}` } },
    { name: '/me two tokens', method: 'GET', path: '/me?access_token=abc', headers: { authorization: 'Bearer def' } },
    { name: '/me DPoP garbage', method: 'GET', path: '/me', headers: { authorization: 'DPoP abc', dpop: 'a.b.c' } },
    {
      name: '/me POST invalid JSON',
      method: 'POST',
      path: '/me',
      headers: { ...JSON_TYPE, authorization: 'Bearer abc' },
      body: '{',
    },
    {
      name: '/me POST form token',
      method: 'POST',
      path: '/me',
      headers: FORM,
      body: qs({ access_token: "' OR 1=1 --" }),
    },

    {
      name: '/token/introspection anonymous',
      method: 'POST',
      path: '/token/introspection',
      headers: FORM,
      body: qs({ token: 'x' }),
    },
    {
      name: '/token/introspection bad secret',
      method: 'POST',
      path: '/token/introspection',
      headers: { ...FORM, authorization: basic(client, 'wrong') },
      body: qs({ token: SQLISH[0] ?? '' }),
    },
    {
      name: '/token/introspection invalid JSON',
      method: 'POST',
      path: '/token/introspection',
      headers: { ...JSON_TYPE, authorization: basic(client, 'wrong') },
      body: '[[[',
    },
    { name: '/token/introspection GET', method: 'GET', path: '/token/introspection?token=x' },
    {
      name: '/token/introspection repeated token',
      method: 'POST',
      path: '/token/introspection',
      headers: { ...FORM, authorization: basic(client, 'wrong') },
      body: 'token=a&token=b',
    },
    {
      name: '/token/revocation anonymous',
      method: 'POST',
      path: '/token/revocation',
      headers: FORM,
      body: qs({ token: 'x' }),
    },
    {
      name: '/token/revocation bad hint',
      method: 'POST',
      path: '/token/revocation',
      headers: { ...FORM, authorization: basic(client, 'wrong') },
      body: qs({ token: 'x', token_type_hint: 'id_token' }),
    },
    {
      name: '/token/revocation oversized',
      method: 'POST',
      path: '/token/revocation',
      headers: { ...FORM, authorization: basic(client, 'wrong') },
      body: qs({ token: BIG }),
    },

    { name: '/session/end garbage hint', method: 'GET', path: `/session/end?${qs({ id_token_hint: 'a.b.c' })}` },
    {
      name: '/session/end unknown client',
      method: 'GET',
      path: `/session/end?${qs({ client_id: "' OR 1=1", post_logout_redirect_uri: 'https://evil.example' })}`,
    },
    { name: '/session/end repeated params', method: 'GET', path: '/session/end?state=a&state=b' },
    { name: '/session/end POST invalid JSON', method: 'POST', path: '/session/end', headers: JSON_TYPE, body: '{"' },
    {
      name: '/session/end/confirm without xsrf',
      method: 'POST',
      path: '/session/end/confirm',
      headers: FORM,
      body: qs({ logout: 'yes' }),
    },
    {
      name: '/session/end/confirm garbage cookie',
      method: 'POST',
      path: '/session/end/confirm',
      headers: { ...FORM, cookie: 'gh_session=%%%; gh_session.sig=!!!' },
      body: qs({ xsrf: 'x', logout: 'yes' }),
    },

    { name: 'huge header', method: 'GET', path: '/auth', headers: { 'x-filler': 'h'.repeat(20_000) } },
    {
      name: 'huge cookie',
      method: 'GET',
      path: `/auth?${qs(auth)}`,
      headers: { cookie: `gh_session=${'c'.repeat(12_000)}` },
      expect: 'below-500',
    },
    {
      name: 'garbage session cookie',
      method: 'GET',
      path: `/auth?${qs(auth)}`,
      headers: { cookie: 'gh_session=../../x; gh_session.sig=forged' },
      expect: 'below-500',
    },
    {
      name: 'discovery POST',
      method: 'POST',
      path: '/.well-known/openid-configuration',
      headers: JSON_TYPE,
      body: '{',
    },
    { name: 'jwks with junk', method: 'GET', path: `/jwks?${qs({ kid: SQLISH[1] ?? '' })}`, expect: 'below-500' },
  ];
  const authed = basic(client, rp.client.clientSecret ?? '');
  probes.push(
    {
      name: '/auth POST form with NUL',
      method: 'POST',
      path: '/auth',
      headers: FORM,
      body: qs({ ...auth, state: 'a\u0000b', nonce: '\u0000' }),
      expect: 'below-500',
    },
    {
      name: '/auth claims with NUL key',
      method: 'GET',
      path: `/auth?${qs({ ...auth, claims: JSON.stringify({ id_token: { '\u0000': null }, userinfo: { email: { value: '\u0000' } } }) })}`,
      expect: 'below-500',
    },
    {
      name: '/auth JSON claims array',
      method: 'GET',
      path: `/auth?${qs({ ...auth, claims: '[1,2,3]' })}`,
      expect: 'below-500',
    },
    {
      name: '/auth resource garbage',
      method: 'GET',
      path: `/auth?${qs({ ...auth, resource: 'not a uri' })}`,
      expect: 'below-500',
    },
    { name: '/auth NUL in path', method: 'GET', path: '/auth%00' },
  );
  for (const value of [...SQLISH, ...UNICODE, 'x'.repeat(5000)]) {
    probes.push(
      {
        name: `/token/introspection (authenticated) ${JSON.stringify(value.slice(0, 20))}`,
        method: 'POST',
        path: '/token/introspection',
        headers: { ...FORM, authorization: authed },
        body: qs({ token: value, token_type_hint: value }),
        expect: 'below-500',
      },
      {
        name: `/token/revocation (authenticated) ${JSON.stringify(value.slice(0, 20))}`,
        method: 'POST',
        path: '/token/revocation',
        headers: { ...FORM, authorization: authed },
        body: qs({ token: value }),
        expect: 'below-500',
      },
      {
        name: `/token code (authenticated) ${JSON.stringify(value.slice(0, 20))}`,
        method: 'POST',
        path: '/token',
        headers: { ...FORM, authorization: authed },
        body: qs({ grant_type: 'authorization_code', code: value, redirect_uri: redirect, code_verifier: value }),
      },
      {
        name: `/token refresh (authenticated) ${JSON.stringify(value.slice(0, 20))}`,
        method: 'POST',
        path: '/token',
        headers: { ...FORM, authorization: authed },
        body: qs({ grant_type: 'refresh_token', refresh_token: value }),
      },
      {
        name: `/me bearer ${JSON.stringify(value.slice(0, 20))}`,
        method: 'GET',
        path: '/me',
        headers: { authorization: `Bearer ${encodeURIComponent(value)}` },
      },
    );
  }
  for (const value of [...SQLISH, ...UNICODE]) {
    probes.push(
      {
        name: `/auth client_id ${JSON.stringify(value)}`,
        method: 'GET',
        path: `/auth?${qs({ ...auth, client_id: value })}`,
      },
      {
        name: `/auth state ${JSON.stringify(value)}`,
        method: 'GET',
        path: `/auth?${qs({ ...auth, state: value, login_hint: value, nonce: value })}`,
        expect: 'below-500',
      },
      {
        name: `/token code ${JSON.stringify(value)}`,
        method: 'POST',
        path: '/token',
        headers: { ...FORM, authorization: basic(client, value) },
        body: qs({ grant_type: 'authorization_code', code: value, redirect_uri: redirect, code_verifier: value }),
      },
      {
        name: `/token refresh ${JSON.stringify(value)}`,
        method: 'POST',
        path: '/token',
        headers: FORM,
        body: qs({ grant_type: 'refresh_token', refresh_token: value, client_id: value }),
      },
      { name: `/me token ${JSON.stringify(value)}`, method: 'GET', path: `/me?${qs({ access_token: value })}` },
      {
        name: `/introspection ${JSON.stringify(value)}`,
        method: 'POST',
        path: '/token/introspection',
        headers: { ...FORM, authorization: basic(value, value) },
        body: qs({ token: value }),
      },
      {
        name: `/interaction path ${JSON.stringify(value)}`,
        method: 'GET',
        path: `/interaction/${encodeURIComponent(value)}`,
      },
    );
  }
  for (const method of ['PROPFIND', 'TRACE', 'SEARCH', 'MKCOL', 'PATCH', 'PUT', 'DELETE']) {
    for (const path of [
      '/auth',
      '/token',
      '/me',
      '/token/introspection',
      '/session/end',
      '/interaction/x',
      '/interaction/x/login',
      '/healthz',
      '/nope',
    ]) {
      probes.push({ name: `${method} ${path}`, method, path, headers: FORM, body: qs({ a: 'b' }) });
    }
  }
  for (const garbage of [
    'x',
    '%00',
    '..%2f..%2fetc%2fpasswd',
    encodeURIComponent("' OR 1=1 --"),
    'u'.repeat(5000),
    '%E0%A4%A',
    '%ff%fe',
  ]) {
    probes.push(
      { name: `/interaction/${garbage.slice(0, 20)} GET`, method: 'GET', path: `/interaction/${garbage}` },
      {
        name: `/interaction/${garbage.slice(0, 20)}/login POST`,
        method: 'POST',
        path: `/interaction/${garbage}/login`,
        headers: FORM,
        body: qs({ csrf: 'x', email: 'a@b.c', password: 'p' }),
      },
      {
        name: `/interaction/${garbage.slice(0, 20)}/consent POST`,
        method: 'POST',
        path: `/interaction/${garbage}/consent`,
        headers: FORM,
        body: qs({ csrf: 'x', decision: 'allow' }),
      },
    );
  }
  return probes;
}

/** Requests against a live interaction, sent with its cookies. */
function interactionProbes(loginPath: string, csrf: string, email: string): Probe[] {
  const base = loginPath.replace(/\/login$/, '');
  const probes: Probe[] = [
    {
      name: 'login oversized email',
      method: 'POST',
      path: loginPath,
      headers: FORM,
      body: qs({ csrf, email: `${'e'.repeat(10_000)}@x.test`, password: 'p' }),
    },
    {
      name: 'login oversized password',
      method: 'POST',
      path: loginPath,
      headers: FORM,
      body: qs({ csrf, email, password: 'p'.repeat(12_000) }),
    },
    {
      name: 'login body over the form limit',
      method: 'POST',
      path: loginPath,
      headers: FORM,
      body: qs({ csrf, email, password: BIG }),
    },
    {
      name: 'login invalid JSON',
      method: 'POST',
      path: loginPath,
      headers: JSON_TYPE,
      body: `{"csrf":"${csrf}","email":`,
    },
    {
      name: 'login valid JSON',
      method: 'POST',
      path: loginPath,
      headers: JSON_TYPE,
      body: JSON.stringify({ csrf, email, password: 'p' }),
    },
    {
      name: 'login text/plain',
      method: 'POST',
      path: loginPath,
      headers: { 'content-type': 'text/plain' },
      body: qs({ csrf, email, password: 'p' }),
    },
    {
      name: 'login multipart',
      method: 'POST',
      path: loginPath,
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
      body: `--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n${csrf}\r\n--b--`,
    },
    { name: 'login no content type', method: 'POST', path: loginPath, body: qs({ csrf, email, password: 'p' }) },
    {
      name: 'login broken form encoding',
      method: 'POST',
      path: loginPath,
      headers: FORM,
      body: `csrf=${csrf}&email=%E0%A4%A&password=%zz`,
    },
    {
      name: 'login repeated fields',
      method: 'POST',
      path: loginPath,
      headers: FORM,
      body: `csrf=${csrf}&csrf=${csrf}&email=${encodeURIComponent(email)}&email=x@y.z&password=a&password=b`,
    },
    {
      name: 'login nested fields',
      method: 'POST',
      path: loginPath,
      headers: FORM,
      body: `csrf=${csrf}&email[$ne]=1&password[]=a&__proto__[admin]=1&constructor[prototype][x]=1`,
    },
    { name: 'login empty body', method: 'POST', path: loginPath, headers: FORM, body: '' },
    { name: 'login PUT', method: 'PUT', path: loginPath, headers: FORM, body: qs({ csrf, email, password: 'p' }) },
    { name: 'login GET', method: 'GET', path: loginPath },
    { name: 'login PROPFIND', method: 'PROPFIND', path: loginPath },
    {
      name: 'consent while login pending',
      method: 'POST',
      path: `${base}/consent`,
      headers: FORM,
      body: qs({ csrf, decision: 'allow' }),
    },
    {
      name: 'select-account while login pending',
      method: 'POST',
      path: `${base}/select-account`,
      headers: FORM,
      body: qs({ csrf, action: 'continue' }),
    },
    { name: 'unknown step', method: 'POST', path: `${base}/nope`, headers: FORM, body: qs({ csrf }) },
    {
      name: 'abort with foreign origin',
      method: 'POST',
      path: `${base}/abort`,
      headers: { ...FORM, origin: 'https://evil.example' },
      body: qs({ csrf }),
    },
  ];
  for (const value of [...SQLISH, ...UNICODE]) {
    probes.push({
      name: `login fields ${JSON.stringify(value)}`,
      method: 'POST',
      path: loginPath,
      headers: FORM,
      body: qs({ csrf, email: value, password: value }),
    });
    probes.push({
      name: `login csrf ${JSON.stringify(value)}`,
      method: 'POST',
      path: loginPath,
      headers: FORM,
      body: qs({ csrf: value, email, password: 'p' }),
    });
  }
  return probes;
}

const STACK_TRACE = /\n\s+at .+:\d+:\d+/;

function expectSafe(issuer: string, probe: Probe, res: RawResponse): void {
  const label = `${probe.name} → ${res.status}`;
  // A redirect goes to our own pages or carries an error to the client, never a code.
  const location = typeof res.headers.location === 'string' ? new URL(res.headers.location, issuer) : undefined;
  if (location) {
    const params = new URLSearchParams(location.search || location.hash.slice(1));
    const fine = location.origin === issuer || (params.has('error') && !params.has('code'));
    expect({ label, location: location.toString(), fine }).toEqual({
      label,
      location: location.toString(),
      fine: true,
    });
  }
  expect({ label, serverError: res.status >= 500 }).toEqual({ label, serverError: false });
  if ((probe.expect ?? '4xx') === '4xx')
    expect({ label, clientError: res.status >= 400 }).toEqual({ label, clientError: true });
  expect({ label, trace: res.body.includes('    at ') || STACK_TRACE.test(res.body) }).toEqual({ label, trace: false });
  expect({ label, errorText: res.body.includes('Error:') }).toEqual({ label, errorText: false });
}

describe.each(HTTP_BACKENDS)('hostile input on every endpoint (%s)', (backend) => {
  let rp: TestRp;
  let serverErrors: unknown[];
  const server = useTestServer(backend, { lockout: { freeFailures: 1000, accountFreeFailures: 1000 } });
  beforeAll(async () => {
    rp = await buildRp(server);
    serverErrors = [];
    server.gatehouse.host.current.on('server_error', (_ctx, err) => serverErrors.push(err));
  });

  it('answers malformed protocol requests with 4xx (or a redirect to the client), never a 5xx or a stack trace', async () => {
    const probes = protocolProbes(rp);
    expect(probes.length).toBeGreaterThan(100);
    for (const probe of probes) {
      const res = await send(server.issuer, probe.method, probe.path, probe.headers, probe.body).catch((e: Error) => {
        throw new Error(`${probe.name}: ${e.message}`);
      });
      expectSafe(server.issuer, probe, res);
    }
    expect(serverErrors).toEqual([]);
  });

  it('answers malformed sign-in form posts with 4xx, never a 5xx, and the sign-in still works', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    const loginPath = new URL(actionOf(page, '/login')).pathname;
    const cookie = [...ua.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const probes = interactionProbes(loginPath, csrfToken(page.html), user.email);
    for (const probe of probes) {
      const res = await send(
        server.issuer,
        probe.method,
        probe.path,
        { cookie, origin: server.issuer, ...probe.headers },
        probe.body,
      );
      expectSafe(server.issuer, probe, res);
      // Sign-in answers keep the no-store promise.
      if (probe.path.startsWith('/interaction/'))
        expect({ probe: probe.name, cacheControl: res.headers['cache-control'] }).toEqual({
          probe: probe.name,
          cacheControl: 'no-store',
        });
    }
    expect(serverErrors).toEqual([]);

    // Nothing above signed anyone in, and the interaction is intact.
    const again = await ua.get(page.url);
    expect(pageKind(again)).toBe('login');
    const done = await ua.post(actionOf(again, '/login'), {
      csrf: csrfToken(again.html),
      email: user.email,
      password: user.password,
    });
    expect(done.status).toBe(303);
  });

  it('stays healthy after the barrage', async () => {
    const health = await send(server.issuer, 'GET', '/healthz');
    expect(health.status).toBe(200);
    const user = await server.buildUser();
    const { tokens } = await signIn(new UserAgent(server.issuer), rp, user);
    expect(tokens.claims()?.sub).toBe(user.id);
  });
});
