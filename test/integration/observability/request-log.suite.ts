import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startMailCatcher, type MailCatcher } from '../../helpers/mail-catcher.js';
import { discoverRp, oidc } from '../../helpers/rp.js';
import { OFFLINE, introspect, refreshTokenOf, signIn } from '../../helpers/tokens.js';
import { BOOT_TIMEOUT, buildRp, openAuthorization, submitLogin } from '../../helpers/sessions.js';
import { UserAgent } from '../../helpers/user-agent.js';
import { requestReset, resetLinkFor, submitNewPassword } from '../../helpers/password-reset.js';
import { adminToken } from '../../helpers/admin-api.js';

/** A log destination the test reads: every line the server writes, as written. */
function captureLog(): { write(line: string): void; text(): string; lines(): Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  return {
    write: (line) => {
      chunks.push(line);
    },
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const NEW_PASSWORD = 'quarry saffron lighthouse eleven';
const WRONG_PASSWORD = 'a wrong guess of the password';

describe.each(HTTP_BACKENDS)('request log (%s)', (backend) => {
  let server: TestServer;
  let mail: MailCatcher;
  const log = captureLog();
  beforeAll(async () => {
    mail = await startMailCatcher();
    // debug: the most the server ever writes, probes and provider events included.
    server = await startTestServer(
      backend,
      { mail: { smtpUrl: mail.url, from: 'Gatehouse <no-reply@example.test>' } },
      { logTo: log, logLevel: 'debug' },
    );
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
    await mail?.close();
  });

  it('writes no password, client secret, code, token, reset link token or cookie, whatever the flow', async () => {
    const secrets: string[] = [];
    // Sign-in with a password, code exchange with the client secret (Basic), refresh, introspection.
    const { user, client, code, tokens, ua, rp } = await signIn(server, { params: OFFLINE });
    const refreshed = await oidc.refreshTokenGrant(rp, refreshTokenOf(tokens));
    await introspect(rp, refreshed.access_token);
    secrets.push(
      user.password,
      client.clientSecret ?? '',
      code,
      tokens.access_token,
      refreshTokenOf(tokens),
      tokens.id_token ?? '',
      refreshed.access_token,
      refreshTokenOf(refreshed),
      refreshed.id_token ?? '',
    );
    // The client secret in the body (client_secret_post).
    const service = await server.buildClient({
      grantTypes: ['client_credentials'],
      redirectUris: [],
      postLogoutRedirectUris: [],
      scope: 'openid',
    });
    const machine = await oidc.clientCredentialsGrant(
      await discoverRp(server.issuer, service, oidc.ClientSecretPost(service.clientSecret ?? '')),
    );
    secrets.push(service.clientSecret ?? '', machine.access_token);
    // A wrong password, which takes the failure paths.
    const guessing = new UserAgent(server.issuer);
    const { page } = await openAuthorization(guessing, await buildRp(server), server.issuer);
    expect((await submitLogin(guessing, page, user.email, WRONG_PASSWORD)).status).toBe(401);
    secrets.push(WRONG_PASSWORD);
    // A password reset by mail: the link's token and the new password.
    const resetting = new UserAgent(server.issuer);
    await requestReset(resetting, user.email);
    const link = await resetLinkFor(mail, user.email);
    expect((await submitNewPassword(resetting, link, NEW_PASSWORD)).status).toBeLessThan(400);
    secrets.push(new URL(link).searchParams.get('token') ?? '', NEW_PASSWORD);
    // An admin API bearer token.
    const admin = await adminToken(server);
    expect(
      (await fetch(`${server.issuer}/admin/api/v1/users`, { headers: { authorization: `Bearer ${admin}` } })).status,
    ).toBe(200);
    secrets.push(admin);
    // Every cookie the browsers held (session, interaction, CSRF).
    for (const agent of [ua, guessing, resetting]) secrets.push(...agent.cookies.values());

    await server.gatehouse.backchannelSettled();
    const output = log.text();
    expect(secrets.every((s) => s.length >= 8)).toBe(true);
    for (const secret of secrets) expect(output).not.toContain(secret);
    // The flows were logged (the absence above is not an empty log).
    const requests = log.lines().filter((l) => l.msg === 'request');
    expect(requests.filter((l) => l.path === '/token' && l.status === 200).length).toBeGreaterThanOrEqual(3);
    expect(requests.some((l) => l.path === '/password/reset' && l.method === 'POST')).toBe(true);
  });

  it('logs one line per request with its id, method, route, status, duration and client IP, and no query string', async () => {
    const res = await fetch(`${server.issuer}/.well-known/openid-configuration?probe=1`);
    const requestId = res.headers.get('x-request-id');
    const line = log.lines().find((l) => l.msg === 'request' && l.reqId === requestId);
    expect(line).toMatchObject({
      level: 30,
      method: 'GET',
      path: '/.well-known/openid-configuration',
      status: 200,
      ip: '127.0.0.1',
      service: 'gatehouse',
    });
    expect(line?.durationMs).toEqual(expect.any(Number));
    for (const l of log.lines().filter((entry) => entry.msg === 'request')) expect(String(l.path)).not.toContain('?');
  });

  it('logs an unknown path without its query (where a stray token would be), and probes at debug level', async () => {
    const leaked = 'Zm9yZ290dGVuLXRva2VuLWluLWEtbGluaw';
    const res = await fetch(`${server.issuer}/no/such/page?token=${leaked}`);
    expect(res.status).toBe(404);
    const health = await fetch(`${server.issuer}/healthz`);
    const lines = log.lines();
    expect(lines.find((l) => l.reqId === res.headers.get('x-request-id') && l.msg === 'request')).toMatchObject({
      path: '/no/such/page',
      status: 404,
      level: 30,
    });
    expect(lines.find((l) => l.reqId === health.headers.get('x-request-id') && l.msg === 'request')).toMatchObject({
      path: '/healthz',
      level: 20,
    });
    expect(log.text()).not.toContain(leaked);
  });
});
