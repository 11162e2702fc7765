import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { cli, json } from '../../helpers/cli.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { UserAgent, alertText, buildRp, userAdminFor, type TestRp } from '../../helpers/sessions.js';
import {
  ACR,
  MFA_AMR,
  auditOf,
  authenticationOf,
  buildTotpUser,
  finishAtRp,
  offeredMethods,
  passwordStep,
  signInWithTotp,
  stepKind,
  submitCode,
  totpCode,
  wrongTotpCode,
  type TotpUser,
} from './support.js';

const WRONG_CODE = 'That code is not correct.';
const REPLAYED = 'That code was already used. Wait for the next code from your app.';
const THROTTLED = 'Too many failed attempts. Please try again in 2 minutes.';
const MAX_FAILED = 3;

describe.each(HTTP_BACKENDS)('TOTP second step at sign-in (%s)', (backend) => {
  let rp: TestRp;
  const server = useTestServer(backend, { lockout: { freeFailures: MAX_FAILED, baseDelaySeconds: 120 } });
  beforeAll(async () => {
    rp = await buildRp(server);
  });

  /** Password accepted, mfa page shown: the state every test below starts from. */
  async function atCodePage(user: TotpUser, ua = new UserAgent(server.issuer)) {
    const first = await passwordStep(ua, server, rp, user);
    expect(first.steps).toEqual(['login']);
    expect(first.page.status).toBe(200);
    expect(stepKind(first.page)).toBe('mfa');
    return { ua, ...first };
  }

  it('asks a TOTP user for a code after the password and issues tokens with amr pwd otp mfa and the mfa acr', async () => {
    const user = await buildTotpUser(server);
    const { ua, page, request } = await atCodePage(user);
    expect(offeredMethods(page)).toEqual(['totp']);

    const answer = await submitCode(ua, page, 'totp', await totpCode(user.secret));
    expect(answer.status).toBe(303);
    const tokens = await finishAtRp(ua, server, rp, answer, request);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(authenticationOf(tokens)).toEqual({ amr: MFA_AMR, acr: ACR.mfa });
  });

  it('does not show the second step to a user without second factors: amr pwd, the password acr', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    expect(first.steps).toEqual(['login']);
    expect(first.page.status).toBe(303);
    const tokens = await finishAtRp(ua, server, rp, first.page, first.request);
    expect(authenticationOf(tokens)).toEqual({ amr: ['pwd'], acr: ACR.password });
  });

  it('accepts an imported 80-bit (16-character) secret, as authenticator exports often hold', async () => {
    const email = uniqueEmail('short');
    const secret = 'JBSWY3DPEHPK3PXP';
    const created = await cli(
      server,
      'users',
      'create',
      '--email',
      email,
      '--password',
      'long enough password',
      '--totp-secret',
      secret,
      '--json',
    );
    expect(created.code).toBe(0);
    const { id } = json<{ id: string }>(created);
    const user: TotpUser = {
      ...(await userAdminFor(server).findByEmail(email)),
      password: 'long enough password',
      secret,
    };
    const tokens = await signInWithTotp(new UserAgent(server.issuer), server, rp, user);
    expect(tokens.claims()?.sub).toBe(id);
    expect(authenticationOf(tokens).acr).toBe(ACR.mfa);
  });

  it('refuses a wrong code with 401 and an error, keeps the interaction open, then accepts the right code', async () => {
    const user = await buildTotpUser(server);
    const { ua, page, request } = await atCodePage(user);

    const wrong = await submitCode(ua, page, 'totp', await wrongTotpCode(user.secret));
    expect(wrong.status).toBe(401);
    expect(wrong.location).toBeNull();
    expect(stepKind(wrong)).toBe('mfa');
    expect(alertText(wrong.html)).toBe(WRONG_CODE);

    for (const malformed of ['', 'abcdef', '12345', '1234567', '9'.repeat(65), `${await totpCode(user.secret)}0`]) {
      const refused = await submitCode(ua, wrong, 'totp', malformed);
      expect(refused.status).toBe(401);
      expect(alertText(refused.html)).toBe(WRONG_CODE);
      // Each refusal counts towards the throttle (tested below); stay under it here.
      await server.gatehouse.lockout.clear('second_factor', user.id);
    }

    const right = await submitCode(ua, wrong, 'totp', ` ${await totpCode(user.secret)} `);
    expect(right.status).toBe(303);
    const tokens = await finishAtRp(ua, server, rp, right, request);
    expect(authenticationOf(tokens)).toEqual({ amr: MFA_AMR, acr: ACR.mfa });

    const events = await auditOf(server, user.id);
    expect(events.filter((e) => e.action === 'signin.mfa.failed').length).toBeGreaterThanOrEqual(1);
    expect(
      events
        .filter((e) => e.action === 'signin.mfa.failed')
        .every((e) => e.details.method === 'totp' && e.actorId === null),
    ).toBe(true);
    expect(events.filter((e) => e.action === 'signin.mfa.succeeded')).toEqual([
      expect.objectContaining({ actorId: user.id, subjectId: user.id, details: { method: 'totp' } }),
    ]);
    // The audit never holds the codes themselves.
    expect(JSON.stringify(events)).not.toContain(await totpCode(user.secret));
  });

  it('refuses a code already used for another sign-in in another browser ("already used")', async () => {
    const user = await buildTotpUser(server);
    const code = await totpCode(user.secret);
    const first = await atCodePage(user);
    const second = await atCodePage(user);

    const accepted = await submitCode(first.ua, first.page, 'totp', code);
    expect(accepted.status).toBe(303);
    await finishAtRp(first.ua, server, rp, accepted, first.request);

    const replayed = await submitCode(second.ua, second.page, 'totp', code);
    expect(replayed.status).toBe(401);
    expect(replayed.location).toBeNull();
    expect(alertText(replayed.html)).toBe(REPLAYED);
    expect((await auditOf(server, user.id)).filter((e) => e.action === 'signin.mfa.replayed')).toEqual([
      expect.objectContaining({ subjectId: user.id, actorId: null, details: { method: 'totp' } }),
    ]);

    // An older code of the window is no better than the spent one.
    const older = await submitCode(second.ua, replayed, 'totp', await totpCode(user.secret, -1));
    expect(older.status).toBe(401);
    // (A spent step, or outside the window if the clock moved on meanwhile.)
    expect([REPLAYED, WRONG_CODE]).toContain(alertText(older.html));

    // The next code still works in the second browser.
    const next = await submitCode(second.ua, older, 'totp', await totpCode(user.secret, 1));
    expect(next.status).toBe(303);
    expect(authenticationOf(await finishAtRp(second.ua, server, rp, next, second.request)).acr).toBe(ACR.mfa);
  });

  it('accepts one code exactly once when two browsers send it at the same moment', async () => {
    const user = await buildTotpUser(server);
    const code = await totpCode(user.secret);
    const browsers = await Promise.all([atCodePage(user), atCodePage(user), atCodePage(user)]);
    const answers = await Promise.all(browsers.map((b) => submitCode(b.ua, b.page, 'totp', code)));
    expect(answers.map((a) => a.status).sort()).toEqual([303, 401, 401]);
    expect(answers.filter((a) => a.status === 401).map((a) => alertText(a.html))).toEqual([REPLAYED, REPLAYED]);
  });

  it('clears the count of wrong codes after a right one', async () => {
    const user = await buildTotpUser(server);
    for (const stepOffset of [0, 1]) {
      const { ua, page, request } = await atCodePage(user);
      let current = page;
      for (let attempt = 1; attempt < MAX_FAILED; attempt++) {
        current = await submitCode(ua, current, 'totp', await wrongTotpCode(user.secret));
        expect(current.status).toBe(401);
      }
      const right = await submitCode(ua, current, 'totp', await totpCode(user.secret, stepOffset));
      expect(right.status).toBe(303);
      await finishAtRp(ua, server, rp, right, request);
    }
  });

  it(`refuses every code with 429 after ${MAX_FAILED} wrong ones, even the right one, and spares the password and other users`, async () => {
    const user = await buildTotpUser(server);
    const other = await buildTotpUser(server);
    const { ua, page } = await atCodePage(user);
    const wrong = await wrongTotpCode(user.secret);

    let current = page;
    for (let attempt = 1; attempt <= MAX_FAILED; attempt++) {
      current = await submitCode(ua, current, 'totp', wrong);
      expect(current.status).toBe(401);
    }
    const code = await totpCode(user.secret);
    const locked = await submitCode(ua, current, 'totp', code);
    expect(locked.status).toBe(429);
    expect(locked.location).toBeNull();
    expect(stepKind(locked)).toBe('mfa');
    expect(alertText(locked.html)).toBe(THROTTLED);
    // A new browser does not reset the count: it follows the account.
    const elsewhere = await atCodePage(user);
    expect((await submitCode(elsewhere.ua, elsewhere.page, 'totp', code)).status).toBe(429);
    // Recovery codes are throttled alike.
    expect((await submitCode(elsewhere.ua, elsewhere.page, 'recovery_code', 'ABCD-EFGH-JKMN')).status).toBe(429);

    // Another account is not affected.
    const fine = await atCodePage(other);
    expect((await submitCode(fine.ua, fine.page, 'totp', await totpCode(other.secret))).status).toBe(303);
  });
});
