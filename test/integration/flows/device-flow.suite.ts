import { runSql } from '../../../src/storage/data-source.js';
import { DEVICE_CODE_GRANT } from '../../../src/clients/client-flows.js';
import { HTTP_BACKENDS, STORE_BACKENDS } from '../../helpers/backends.js';
import { testClock } from '../../helpers/clock.js';
import { approveDevice, enterUserCode } from '../../helpers/device.js';
import { discoverRp, oidc } from '../../helpers/rp.js';
import { useTestServer, type TestServer } from '../../helpers/server.js';
import { UserAgent } from '../../helpers/user-agent.js';
import { initialAccessToken, register, str } from '../registration/support.js';

/** A TV app: public, the device code grant and refresh tokens, no redirect URIs. */
const deviceClient = (server: TestServer) =>
  server.buildClient({
    public: true,
    firstParty: true,
    grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'],
    redirectUris: [],
    postLogoutRedirectUris: [],
    scope: 'openid profile email offline_access',
  });

/** A device's poll of the token endpoint, as RFC 8628 §3.4 spells it. */
async function poll(server: TestServer, clientId: string, deviceCode: string) {
  const res = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: clientId }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** openid-client waits `interval` seconds before each poll: one second keeps the suite quick. */
const FLOWS = { deviceFlow: { enabled: true, codeTtlSeconds: 600, pollIntervalSeconds: 1 } };

/** Dynamic registration (RFC 7591) whose policy lets a device client register itself. */
const DEVICE_REGISTRATION = {
  enabled: true,
  requireApproval: false,
  policy: { grantTypes: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT] },
};

/** A TV app's own registration: public, the device code grant, no redirect URIs. */
const deviceRegistration = {
  client_name: 'Registered TV',
  grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'none',
  scope: 'openid offline_access',
};

describe.each(HTTP_BACKENDS)('device authorization grant, RFC 8628 (%s)', (backend) => {
  const clock = testClock();
  const server = useTestServer(
    backend,
    {
      flows: FLOWS as never,
      rateLimits: { deviceUserCodeIp: { points: 5, durationSeconds: 900 } },
      registration: DEVICE_REGISTRATION as never,
    },
    { clock: clock.now },
  );

  it('is advertised, gives an easy user code, and signs the device in through /device and the normal sign-in', async () => {
    const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery.device_authorization_endpoint).toBe(`${server.issuer}/device/auth`);
    expect(discovery.grant_types_supported).toContain(DEVICE_CODE_GRANT);

    const user = await server.buildUser();
    const client = await deviceClient(server);
    const rp = await discoverRp(server.issuer, client);
    const started = await oidc.initiateDeviceAuthorization(rp, { scope: 'openid profile offline_access' });
    expect(started.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(started.verification_uri).toBe(`${server.issuer}/device`);
    expect(started.interval).toBe(1);

    // Lower case, without the dash: what a person types.
    const typed = started.user_code.replace('-', '').toLowerCase();
    const approval = await approveDevice(new UserAgent(server.issuer), server.issuer, typed, user);
    expect(approval.pages).toEqual(['confirm', 'login']);
    expect(approval.page.status).toBe(200);
    expect(approval.page.html).toContain('Your device is signed in');

    const tokens = await oidc.pollDeviceAuthorizationGrant(rp, started);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const info = await oidc.fetchUserInfo(rp, tokens.access_token, user.id);
    expect(info.sub).toBe(user.id);
    // The device code is single use.
    clock.advance(1000);
    const again = await poll(server, client.clientId, started.device_code);
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('shows the confirmation in German, and a cancelled device gets access_denied', async () => {
    const user = await server.buildUser();
    const client = await deviceClient(server);
    const rp = await discoverRp(server.issuer, client);
    const started = await oidc.initiateDeviceAuthorization(rp, { scope: 'openid' });
    const ua = new UserAgent(server.issuer, { 'accept-language': 'de' });
    const confirm = await enterUserCode(ua, server.issuer, started.user_code);
    expect(confirm.html).toContain('Dieses Gerät anmelden?');
    expect(confirm.html).toContain(started.user_code);

    const cancelled = await approveDevice(ua, server.issuer, started.user_code, { ...user, decision: 'abort' });
    expect(cancelled.page.html).toContain('Die Anmeldung wurde abgebrochen');
    clock.advance(2000);
    expect(await poll(server, client.clientId, started.device_code)).toMatchObject({
      status: 400,
      body: { error: 'access_denied' },
    });
  });

  it('takes the code from verification_uri_complete, so the person only confirms', async () => {
    const client = await deviceClient(server);
    const rp = await discoverRp(server.issuer, client);
    const started = await oidc.initiateDeviceAuthorization(rp, { scope: 'openid' });
    const ua = new UserAgent(server.issuer);
    const carrying = await ua.get(started.verification_uri_complete ?? '');
    expect(carrying.status).toBe(200);
    // The provider's self-submitting form (its script allowed by its CSP hash): post it as a browser would.
    const hidden = Object.fromEntries(
      [...carrying.html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    ) as Record<string, string>;
    expect(hidden.user_code).toBe(started.user_code);
    expect(carrying.headers.get('content-security-policy')).toMatch(/script-src[^;]*'sha256-/);
    const confirm = await ua.post(`${server.issuer}/device`, hidden);
    expect(confirm.html).toContain('name="confirm"');
    expect(confirm.html).toContain(started.user_code);
  });

  it('answers a device that polls sooner than the interval with slow_down, and pending again after it', async () => {
    const client = await deviceClient(server);
    const rp = await discoverRp(server.issuer, client);
    const started = await oidc.initiateDeviceAuthorization(rp, { scope: 'openid' });
    expect(await poll(server, client.clientId, started.device_code)).toMatchObject({
      status: 400,
      body: { error: 'authorization_pending' },
    });
    expect(await poll(server, client.clientId, started.device_code)).toMatchObject({
      status: 400,
      body: { error: 'slow_down' },
    });
    clock.advance(1000);
    expect(await poll(server, client.clientId, started.device_code)).toMatchObject({
      status: 400,
      body: { error: 'authorization_pending' },
    });
  });

  it('refuses an unknown code with a clear page, and a run of guesses from one address with 429', async () => {
    const ua = new UserAgent(server.issuer, { 'x-forwarded-for': '203.0.113.19' });
    const wrong = await enterUserCode(ua, server.issuer, 'BCDF-GHJK');
    expect(wrong.status).toBe(200);
    expect(wrong.html).toContain('This code is not valid');
    // The budget is 5 lookups per address (earlier tests here used some of it).
    let last = wrong;
    for (let i = 0; i < 6 && last.status !== 429; i++) last = await enterUserCode(ua, server.issuer, 'BCDF-GHJK');
    expect(last.status).toBe(429);
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last.html).not.toContain('This code is not valid');
  });

  it('registers a device client dynamically (RFC 7591) where the policy allows the grant, and it starts the flow', async () => {
    const res = await register(server, deviceRegistration, await initialAccessToken(server));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
    const rp = await discoverRp(server.issuer, { clientId: str(res.body.client_id), clientSecret: null });
    const started = await oidc.initiateDeviceAuthorization(rp, { scope: 'openid' });
    expect(started.verification_uri).toBe(`${server.issuer}/device`);
    expect(await poll(server, str(res.body.client_id), started.device_code)).toMatchObject({
      status: 400,
      body: { error: 'authorization_pending' },
    });
  });

  it('refuses the grant to a client not registered for it', async () => {
    const client = await server.buildClient({ public: true, grantTypes: ['authorization_code'] });
    const rp = await discoverRp(server.issuer, client);
    const refused = await oidc.initiateDeviceAuthorization(rp, { scope: 'openid' }).catch((e: unknown) => e);
    // oidc-provider's words for RFC 8628 §3.2's refusal of a client without the grant.
    expect(refused).toMatchObject({
      status: 400,
      error: 'invalid_request',
      error_description: `${DEVICE_CODE_GRANT} is not allowed for this client`,
    });
  });
});

describe.each(HTTP_BACKENDS)('device flow switched off (%s)', (backend) => {
  const server = useTestServer(backend, {
    flows: { deviceFlow: { ...FLOWS.deviceFlow, enabled: false } } as never,
    registration: DEVICE_REGISTRATION as never,
  });

  it('is not advertised and its endpoints are not there', async () => {
    const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery.device_authorization_endpoint).toBeUndefined();
    expect(discovery.grant_types_supported).not.toContain(DEVICE_CODE_GRANT);
    const res = await fetch(`${server.issuer}/device/auth`, { method: 'POST' });
    expect(res.status).toBe(404);
  });

  it('refuses a dynamic registration asking for the device code grant, even where the policy lists it', async () => {
    const res = await register(server, deviceRegistration, await initialAccessToken(server));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_client_metadata');
    expect(res.body.error_description).toEqual(expect.stringContaining('grant_types'));
  });
});

/**
 * Issue 14 §2 for the device code: its row is keyed by a digest and keeps the value sealed,
 * on both stores (the embedded one runs the same SQL through PGlite); the flow still works.
 */
describe.each(STORE_BACKENDS)('device codes are stored under digests (%s)', (backend) => {
  const server = useTestServer(backend, { flows: FLOWS as never });

  it('keeps no device code in any row, before and after approval, and the flow completes', async () => {
    const user = await server.buildUser();
    const client = await deviceClient(server);
    const rp = await discoverRp(server.issuer, client);
    const started = await oidc.initiateDeviceAuthorization(rp, { scope: 'openid' });
    const db = server.gatehouse.storage.storage.dataSource;
    const holding = async () =>
      (
        await runSql<{ model: string }>(db, 'SELECT model FROM oidc_payloads o WHERE position($1 in o::text) > 0', [
          started.device_code,
        ])
      ).rows;
    const rows = await runSql<{ id: string; user_code: string }>(
      db,
      "SELECT id, user_code FROM oidc_payloads WHERE model = 'DeviceCode' AND user_code = $1",
      [started.user_code.replace('-', '')],
    );
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]?.id).not.toBe(started.device_code);
    expect(await holding()).toEqual([]);

    const ua = new UserAgent(server.issuer);
    const codePage = await enterUserCode(ua, server.issuer, started.user_code);
    expect(codePage.html).toContain('name="confirm"');
    const approval = await approveDevice(ua, server.issuer, started.user_code, user);
    expect(approval.page.html).toContain('Your device is signed in');
    expect(await holding()).toEqual([]);
    const tokens = await oidc.pollDeviceAuthorizationGrant(rp, started);
    expect(tokens.claims()?.sub).toBe(user.id);
  });
});
