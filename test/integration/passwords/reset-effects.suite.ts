import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startMailCatcher, type MailCatcher } from '../../helpers/mail-catcher.js';
import { uniqueEmail } from '../../helpers/factories.js';
import {
  BOOT_TIMEOUT,
  buildRp,
  logOutAtRp,
  openAuthorization,
  submitLogin,
  textOf,
  type TestRp,
} from '../../helpers/sessions.js';
import { OFFLINE, oauthFailure, refreshTokenOf } from '../../helpers/tokens.js';
import { oidc } from '../../helpers/rp.js';
import { UserAgent, csrfToken } from '../../helpers/user-agent.js';
import { startLogoutReceiver, verifyLogoutToken, type LogoutReceiver } from '../../helpers/logout-receiver.js';
import { requestReset, resetLinkFor, submitNewPassword } from '../../helpers/password-reset.js';
import { eventsOf, from, randomIp } from '../limits/support.js';
import { signInRemembering } from '../sessions/support.js';

const NEW_PASSWORD = 'copper meadow lantern ninety';
/** The silent per-address cap of these tests (rateLimits.passwordResetEmailCap). */
const CAP = 4;

/**
 * What a password reset does beyond the new password: the clients of the sessions it ends hear
 * of it (back-channel logout), a lockout on the account is lifted, and asking is rate limited.
 */
describe.each(HTTP_BACKENDS)('password reset effects (%s)', (backend) => {
  let server: TestServer;
  let mail: MailCatcher;
  let receiver: LogoutReceiver;
  let rp: TestRp;
  beforeAll(async () => {
    mail = await startMailCatcher();
    receiver = await startLogoutReceiver();
    server = await startTestServer(backend, {
      mail: { smtpUrl: mail.url, from: 'Gatehouse <no-reply@example.test>' },
      http: { trustedProxyHops: 1 },
      lockout: { freeFailures: 2, accountFreeFailures: 2, baseDelaySeconds: 600, maxDelaySeconds: 900 },
      rateLimits: {
        passwordResetEmailIp: { points: 2, durationSeconds: 3600 },
        passwordResetEmailCap: { points: CAP, durationSeconds: 3600 },
        passwordResetIp: { points: 4, durationSeconds: 3600 },
      },
    });
    rp = await buildRp(server, {
      firstParty: true,
      backchannelLogoutUri: receiver.uri,
      backchannelLogoutSessionRequired: true,
    });
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.gatehouse.backchannelSettled();
    await server?.close();
    await mail?.close();
    await receiver?.close();
  });

  const resetFrom = async (ip: string, email: string) => {
    const ua = new UserAgent(server.issuer, from(ip));
    const form = await ua.get('/password/forgot');
    return ua.post(new URL('/password/forgot', server.issuer).toString(), { csrf: csrfToken(form.html), email });
  };

  it('tells every client of the ended sessions, and lifts the lockout of the account', async () => {
    const user = await server.buildUser();
    const ip = randomIp();
    const ua = new UserAgent(server.issuer, from(ip));
    await signInRemembering(ua, rp, user, true);

    // Two wrong passwords from this address: it must wait ten minutes.
    for (let i = 0; i < 2; i += 1) {
      const attacker = new UserAgent(server.issuer, from(ip));
      const { page } = await openAuthorization(attacker, rp, server.issuer);
      expect((await submitLogin(attacker, page, user.email, 'not the password at all', from(ip))).status).toBe(401);
    }
    const waiting = new UserAgent(server.issuer, from(ip));
    const { page: locked } = await openAuthorization(waiting, rp, server.issuer);
    expect((await submitLogin(waiting, locked, user.email, user.password, from(ip))).status).toBe(429);

    expect((await requestReset(new UserAgent(server.issuer, from(randomIp())), user.email)).status).toBe(200);
    const done = await submitNewPassword(
      new UserAgent(server.issuer, from(randomIp())),
      await resetLinkFor(mail, user.email),
      NEW_PASSWORD,
    );
    expect(done.status).toBe(200);

    const { payload } = await verifyLogoutToken(await receiver.next(), server.issuer, rp.client.clientId);
    expect(payload).toMatchObject({ iss: server.issuer, aud: rp.client.clientId, sub: user.id });
    expect(payload.sid).toEqual(expect.any(String));

    const again = new UserAgent(server.issuer, from(ip));
    const { page } = await openAuthorization(again, rp, server.issuer);
    const signedIn = await submitLogin(again, page, user.email, NEW_PASSWORD, from(ip));
    expect(signedIn.status).toBe(303);
  });

  it('ends offline access too: a refresh token that outlived RP-initiated logout fails after the reset', async () => {
    const offline = await buildRp(server, {
      firstParty: true,
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access',
    });
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer, from(randomIp()));
    const { tokens } = await signInRemembering(ua, offline, user, true, OFFLINE);
    expect((await logOutAtRp(ua, offline.config, tokens.id_token)).status).toBe(303);
    // The session is over; offline access is not (docs/sessions.md).
    const survived = refreshTokenOf(await oidc.refreshTokenGrant(offline.config, refreshTokenOf(tokens)));

    expect((await requestReset(new UserAgent(server.issuer, from(randomIp())), user.email)).status).toBe(200);
    const done = await submitNewPassword(
      new UserAgent(server.issuer, from(randomIp())),
      await resetLinkFor(mail, user.email),
      NEW_PASSWORD,
    );
    expect(done.status).toBe(200);
    expect(await oauthFailure(oidc.refreshTokenGrant(offline.config, survived))).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
  });

  it('limits requests per typed address and IP (known or not alike) and per IP with 429 and Retry-After', async () => {
    for (const email of [(await server.buildUser()).email, uniqueEmail('nobody')]) {
      const ip = randomIp();
      expect((await resetFrom(ip, email)).status).toBe(200);
      expect((await resetFrom(ip, email)).status).toBe(200);
      const refused = await resetFrom(ip, email);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      // The same address from elsewhere is not held back by that address's count.
      expect((await resetFrom(randomIp(), email)).status).toBe(200);
    }
    const ip = randomIp();
    for (let i = 0; i < 4; i += 1) expect((await resetFrom(ip, uniqueEmail(`ip${i}`))).status).toBe(200);
    expect((await resetFrom(ip, uniqueEmail('ip-last'))).status).toBe(429);
  });

  /** Every reset mail to `email` until `count` have come (the mails go out in the background). */
  const mailsTo = async (email: string, count: number) => {
    const mails = [];
    for (let n = 0; n < count; n += 1) mails.push(await mail.next(email));
    return mails;
  };
  const outcomesOf = async (userId: string) =>
    (await eventsOf(server, 'password.reset_requested'))
      .filter((e) => e.subjectId === userId)
      .map((e) => ({ ip: e.ip, outcome: e.details.outcome }));

  it("lets no stranger use up the owner's requests: after three from other addresses, the owner's from a fresh one gets a link", async () => {
    const user = await server.buildUser();
    for (let n = 0; n < 3; n += 1) expect((await resetFrom(randomIp(), user.email)).status).toBe(200);
    const owner = randomIp();
    const asked = await resetFrom(owner, user.email);
    expect(asked.status).toBe(200);
    const mails = await mailsTo(user.email, 4);
    expect((await outcomesOf(user.id)).find((e) => e.ip === owner)?.outcome).toBe('mailed');
    // The owner's link, issued last, voided the strangers' ones: it is the one that works.
    const links = mails.map((m) => m.links.find((l) => l.includes('/password/reset?token=')) ?? '');
    const usable = [];
    for (const link of links)
      if ((await new UserAgent(server.issuer, from(owner)).get(link)).status === 200) usable.push(link);
    expect(usable).toHaveLength(1);
    expect((await submitNewPassword(new UserAgent(server.issuer, from(owner)), usable[0]!, NEW_PASSWORD)).status).toBe(
      200,
    );
  });

  it(`caps the mail to one address at ${CAP} an hour from all addresses, silently: every answer the same, no mail past the cap`, async () => {
    const user = await server.buildUser();
    const answers = [];
    for (let n = 0; n < CAP + 2; n += 1) answers.push(await resetFrom(randomIp(), user.email));
    expect(answers.map((a) => a.status)).toEqual(Array(CAP + 2).fill(200));
    expect(new Set(answers.map((a) => textOf(a.html))).size).toBe(1);
    expect(await mailsTo(user.email, CAP)).toHaveLength(CAP);
    await expect(mail.next(user.email, 1500)).rejects.toThrow(/no mail/);
    const outcomes = (await outcomesOf(user.id)).map((e) => e.outcome);
    expect(outcomes.filter((o) => o === 'mailed')).toHaveLength(CAP);
    expect(outcomes.filter((o) => o === 'capped')).toHaveLength(2);
    // An address with no account is capped alike (the cap reveals nothing).
    const nobody = uniqueEmail('capped-nobody');
    const unknown = [];
    for (let n = 0; n < CAP + 1; n += 1) unknown.push(await resetFrom(randomIp(), nobody));
    expect(unknown.map((a) => a.status)).toEqual(Array(CAP + 1).fill(200));
    expect(textOf(unknown[CAP]!.html)).toBe(textOf(answers[0]!.html));
  });
});
