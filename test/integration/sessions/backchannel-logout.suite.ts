import { decodeJwt } from 'jose';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import type { TestServer } from '../../helpers/server.js';
import { expectFieldError, expectStatus, startAdminApi, type ApiCall } from '../../helpers/admin-api.js';
import { BOOT_TIMEOUT, buildRp, logoutForm, type TestRp } from '../../helpers/sessions.js';
import { oidc } from '../../helpers/rp.js';
import {
  startLogoutReceiver,
  verifyLogoutToken,
  BACKCHANNEL_LOGOUT_EVENT,
  type LogoutReceiver,
} from '../../helpers/logout-receiver.js';
import { initialAccessToken, register, webClient } from '../registration/support.js';
import { FIREFOX_LINUX, browser, signInRemembering } from './support.js';

/** Waits until the audit log holds what `ready` looks for (deliveries run after the response). */
async function eventually<T>(read: () => Promise<T>, ready: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ready(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** OpenID Connect Back-Channel Logout 1.0: the RP's endpoint gets a signed logout token when a session ends. */
describe.each(HTTP_BACKENDS)('back-channel logout (%s)', (backend) => {
  let server: TestServer;
  let call: ApiCall;
  const receivers: LogoutReceiver[] = [];
  beforeAll(async () => {
    ({ server, call } = await startAdminApi(backend, {
      registration: { enabled: true, requireApproval: false },
      sessions: { backchannelLogout: { attempts: 3, initialDelaySeconds: 0.2, backoffFactor: 2 } },
    }));
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.gatehouse.backchannelSettled();
    await server?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  async function rpWithReceiver(
    options: { failFirst?: number } = {},
  ): Promise<{ rp: TestRp; receiver: LogoutReceiver }> {
    const receiver = await startLogoutReceiver(options);
    receivers.push(receiver);
    const rp = await buildRp(server, {
      firstParty: true,
      backchannelLogoutUri: receiver.uri,
      backchannelLogoutSessionRequired: true,
      postLogoutRedirectUris: ['http://127.0.0.1:9999/logged-out'],
    });
    return { rp, receiver };
  }

  const deliveries = (clientId: string) =>
    eventually(
      () => server.gatehouse.storage.storage.audit.query({ clientId, action: 'backchannel_logout.', limit: 20 }),
      (events) => events.some((e) => e.action !== 'backchannel_logout.failed'),
    );

  it('is advertised in discovery', async () => {
    const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery).toMatchObject({ backchannel_logout_supported: true, backchannel_logout_session_supported: true });
  });

  it('at RP-initiated logout: a logout token signed with the provider keys, naming the session', async () => {
    const { rp, receiver } = await rpWithReceiver();
    const user = await server.buildUser();
    const ua = browser(server, FIREFOX_LINUX);
    const { tokens } = await signInRemembering(ua, rp, user, true);
    const idToken = decodeJwt(tokens.id_token ?? '');
    expect(idToken.sid).toEqual(expect.any(String));

    const confirm = await ua.get(
      oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token ?? '' }).toString(),
    );
    const form = logoutForm(confirm);
    expect((await ua.post(form.action, { xsrf: form.xsrf, logout: 'yes' })).status).toBe(303);

    const { payload, protectedHeader } = await verifyLogoutToken(
      await receiver.next(),
      server.issuer,
      rp.client.clientId,
    );
    expect(payload).toMatchObject({ iss: server.issuer, aud: rp.client.clientId, sub: user.id, sid: idToken.sid });
    expect(payload.events).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
    expect(payload.nonce).toBeUndefined();
    expect(payload.exp).toBeGreaterThan(payload.iat ?? 0);
    expect(protectedHeader.typ).toBe('logout+jwt');

    const events = await deliveries(rp.client.clientId);
    expect(events.map((e) => e.action)).toEqual(['backchannel_logout.delivered']);
    expect(events[0]).toMatchObject({ subjectId: user.id, details: { attempt: 1 } });
    const logout = await eventually(
      () => server.gatehouse.storage.storage.audit.query({ subjectId: user.id, action: 'session.ended', limit: 5 }),
      (e) => e.length > 0,
    );
    expect(logout[0]?.details).toMatchObject({ reason: 'logout' });
  });

  it('when an admin ends the session, and when an admin signs the user out everywhere', async () => {
    const { rp, receiver } = await rpWithReceiver();
    const user = await server.buildUser();
    const { tokens } = await signInRemembering(browser(server, FIREFOX_LINUX), rp, user, false);
    const sid = decodeJwt(tokens.id_token ?? '').sid;
    const { items } = expectStatus(
      await call<{ items: Array<{ id: string }> }>('GET', `/users/${user.id}/sessions`),
      200,
    );
    expectStatus(await call('DELETE', `/users/${user.id}/sessions/${items[0]!.id}`), 204);
    const first = await verifyLogoutToken(await receiver.next(), server.issuer, rp.client.clientId);
    expect(first.payload).toMatchObject({ sub: user.id, sid });

    const again = await signInRemembering(browser(server, FIREFOX_LINUX), rp, user, false);
    expectStatus(await call('DELETE', `/users/${user.id}/sessions`), 204);
    const second = await verifyLogoutToken(await receiver.next(), server.issuer, rp.client.clientId);
    expect(second.payload).toMatchObject({ sub: user.id, sid: decodeJwt(again.tokens.id_token ?? '').sid });
    expect(second.payload.jti).not.toBe(first.payload.jti);
  });

  it('when an admin disables the user', async () => {
    const { rp, receiver } = await rpWithReceiver();
    const user = await server.buildUser();
    const { tokens } = await signInRemembering(browser(server, FIREFOX_LINUX), rp, user, false);
    expectStatus(await call('POST', `/users/${user.id}/disable`), 200);
    const { payload } = await verifyLogoutToken(await receiver.next(), server.issuer, rp.client.clientId);
    expect(payload).toMatchObject({ sub: user.id, sid: decodeJwt(tokens.id_token ?? '').sid });
  });

  it('retries an RP endpoint that fails, with back-off, and records every try', async () => {
    const { rp, receiver } = await rpWithReceiver({ failFirst: 2 });
    const user = await server.buildUser();
    await signInRemembering(browser(server, FIREFOX_LINUX), rp, user, false);
    expectStatus(await call('DELETE', `/users/${user.id}/sessions`), 204);
    await verifyLogoutToken(await receiver.next(), server.issuer, rp.client.clientId);
    expect(receiver.received).toHaveLength(3);
    const events = (await deliveries(rp.client.clientId)).reverse();
    expect(events.map((e) => [e.action, e.details.attempt])).toEqual([
      ['backchannel_logout.failed', 1],
      ['backchannel_logout.failed', 2],
      ['backchannel_logout.delivered', 3],
    ]);
    expect(String(events[0]!.details.reason)).toContain('503');
  });

  it('gives up after the configured attempts and records it', async () => {
    const { rp, receiver } = await rpWithReceiver({ failFirst: 100 });
    const user = await server.buildUser();
    await signInRemembering(browser(server, FIREFOX_LINUX), rp, user, false);
    expectStatus(await call('DELETE', `/users/${user.id}/sessions`), 204);
    const events = (await deliveries(rp.client.clientId)).reverse();
    expect(events.map((e) => e.action)).toEqual([
      'backchannel_logout.failed',
      'backchannel_logout.failed',
      'backchannel_logout.abandoned',
    ]);
    expect(receiver.received).toHaveLength(3);
  });

  it('refuses a plain-http back-channel logout URI off loopback, a fragment, and sid without a URI', async () => {
    const base = { name: 'bad logout', redirect_uris: ['https://rp.example/cb'] };
    expectFieldError(
      await call('POST', '/clients', { ...base, backchannel_logout_uri: 'http://rp.example/logout' }),
      'backchannel_logout_uri',
    );
    expectFieldError(
      await call('POST', '/clients', { ...base, backchannel_logout_uri: 'https://rp.example/logout#x' }),
      'backchannel_logout_uri',
    );
    expectFieldError(
      await call('POST', '/clients', { ...base, backchannel_logout_uri: 'not a url' }),
      'backchannel_logout_uri',
    );
    expectFieldError(
      await call('POST', '/clients', { ...base, backchannel_logout_session_required: true }),
      'backchannel_logout_session_required',
    );
    const ok = expectStatus(
      await call<{ backchannel_logout_uri: string; backchannel_logout_session_required: boolean }>('POST', '/clients', {
        ...base,
        backchannel_logout_uri: 'https://rp.example/logout',
        backchannel_logout_session_required: true,
      }),
      201,
    );
    expect(ok).toMatchObject({
      backchannel_logout_uri: 'https://rp.example/logout',
      backchannel_logout_session_required: true,
    });

    const token = await initialAccessToken(server);
    const refused = await register(server, webClient({ backchannel_logout_uri: 'http://rp.example/logout' }), token);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_client_metadata');
    const registered = await register(
      server,
      webClient({ backchannel_logout_uri: 'https://rp.example/logout', backchannel_logout_session_required: true }),
      await initialAccessToken(server),
    );
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({
      backchannel_logout_uri: 'https://rp.example/logout',
      backchannel_logout_session_required: true,
    });
  });
});
