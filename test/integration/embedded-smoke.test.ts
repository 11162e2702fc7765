import { STORE_BACKENDS, type Backend } from '../helpers/backends.js';
import { useTestServer } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';
import { oidc } from '../helpers/rp.js';
import { OFFLINE, introspect, oauthFailure, refreshTokenOf, signIn } from '../helpers/tokens.js';
import { adminCaller, apiAs, expectFieldError, expectStatus, testUserOf, type ApiCall } from '../helpers/admin-api.js';
import { accountCsrf, openAccountPage } from '../helpers/account-pages.js';
import { uniqueEmail } from '../helpers/factories.js';
import { codeIn, outboxMail, outboxSms } from '../helpers/code-outbox.js';
import { actionOf, buildRp, follow } from '../helpers/sessions.js';
import { csrfToken } from '../helpers/user-agent.js';
import { atCheckMailPage, submitEmailCode } from './codes/support.js';
import { ACR, authenticationOf, finishAtRp } from './mfa/support.js';

/**
 * The HTTP suites run on PostgreSQL + Redis (HTTP_BACKENDS, docs/decisions.md "Test suite"):
 * this is the embedded store's one end-to-end pass through each area, on one server —
 * sign-in, refresh, the admin API, /account, and codes by email and SMS. Under TEST_BACKENDS without the embedded store
 * it runs on what was chosen rather than not at all.
 */
const SMOKE_BACKENDS: Backend[] = STORE_BACKENDS.includes('embedded') ? ['embedded'] : STORE_BACKENDS;

describe.each(SMOKE_BACKENDS)('end-to-end smoke on one store (%s)', (backend) => {
  const server = useTestServer(backend);

  it('sign-in: the code flow with openid-client yields verified tokens and userinfo', async () => {
    const { tokens, rp, user, pages } = await signIn(server);
    expect(pages).toEqual(['login']);
    expect(tokens.claims()).toMatchObject({ sub: user.id, iss: server.issuer });
    expect(await oidc.fetchUserInfo(rp, tokens.access_token, user.id)).toMatchObject({
      sub: user.id,
      email: user.email,
    });
  });

  it('refresh: rotates the refresh token, and a rotated one presented again is refused', async () => {
    const { tokens, rp, user } = await signIn(server, { params: OFFLINE });
    const first = refreshTokenOf(tokens);
    const second = refreshTokenOf(await oidc.refreshTokenGrant(rp, first));
    expect(second).not.toBe(first);
    expect(await introspect(rp, second)).toMatchObject({ active: true, sub: user.id });
    expect(await oauthFailure(oidc.refreshTokenGrant(rp, first))).toEqual({ status: 400, error: 'invalid_grant' });
  });

  it('admin API: creates a user who can sign in, reads it back, and refuses a bad email naming the field', async () => {
    const call: ApiCall = apiAs(server, (await adminCaller(server)).token);
    const password = 'a long smoke-test passphrase';
    const created = expectStatus(
      await call<{ id: string; email: string }>('POST', '/users', { email: uniqueEmail('smoke'), password }),
      201,
    );
    expect(expectStatus(await call('GET', `/users/${created.id}`), 200)).toEqual(created);
    const { tokens } = await signIn(server, { user: testUserOf(created, password) });
    expect(tokens.claims()?.sub).toBe(created.id);
    expectFieldError(await call('POST', '/users', { email: 'not an email', password }), 'email');
  });

  it('/account: opens the page, refuses a wrong current password, and changes the password', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const opened = await openAccountPage(ua, user.email, user.password);
    expect(opened.html).toContain(user.email);
    const fresh = 'a fresh long password';
    expect(
      (
        await ua.post('/account/password', {
          csrf: accountCsrf(opened),
          current_password: 'not it at all',
          new_password: fresh,
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await ua.post('/account/password', {
          csrf: accountCsrf(opened),
          current_password: user.password,
          new_password: fresh,
        })
      ).status,
    ).toBe(303);
    // The new password opens the page in another browser.
    expect((await openAccountPage(new UserAgent(server.issuer), user.email, fresh)).html).toContain(user.email);
  });

  it('codes: an emailed one-time code signs in with openid-client, and an SMS code is the second step', async () => {
    const rp = await buildRp(server);
    const user = await server.buildUser();
    const phone = '+491701234567';
    const { phones } = server.gatehouse.storage.storage;
    await phones.set(user.id, phone, true);
    await phones.enableFactor(user.id, 'sms');
    const { dataDir } = server.gatehouse.config.storage;
    const ua = new UserAgent(server.issuer);

    // The embedded default writes mail and SMS to the data directory's outbox.
    const { request, page } = await atCheckMailPage(ua, server, rp, user.email, 'code');
    await server.gatehouse.codeDeliveriesSettled();
    const mail = (await outboxMail(dataDir)).filter((m) => m.to === user.email).at(-1);
    const first = await submitEmailCode(ua, page, codeIn(mail?.text ?? ''));
    expect(first.status).toBe(303);

    const step = await follow(ua, first.location ?? '', server.issuer);
    expect(step.html).toContain('data-send-code="sms"');
    expect(step.html).not.toContain('data-send-code="email"'); // the same mailbox is no second factor
    const sent = await ua.post(actionOf(step, '/mfa/send-code'), { csrf: csrfToken(step.html), channel: 'sms' });
    await server.gatehouse.codeDeliveriesSettled();
    const sms = outboxSms(dataDir)
      .filter((m) => m.to === phone)
      .at(-1);
    const done = await ua.post(actionOf(sent, '/mfa/sent-code'), {
      csrf: csrfToken(sent.html),
      code: codeIn(sms?.text ?? ''),
    });
    const tokens = await finishAtRp(ua, server, rp, done, request);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(authenticationOf(tokens)).toEqual({ amr: ['otp', 'sms', 'mfa'], acr: ACR.mfa });
  });
});
