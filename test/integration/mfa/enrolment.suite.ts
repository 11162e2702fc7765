import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer, useTestServer, type TestServer } from '../../helpers/server.js';
import { cli, json } from '../../helpers/cli.js';
import { discoverRp } from '../../helpers/rp.js';
import { UserAgent, alertText, buildRp, errorCode, follow, paramsOf, type TestRp } from '../../helpers/sessions.js';
import {
  ACR,
  MFA_AMR,
  auditActions,
  authenticationOf,
  enrolAtSignIn,
  finishAtRp,
  offeredMethods,
  passwordStep,
  recoveryCodesOn,
  stepKind,
  submitCode,
  submitContinue,
  submitEnrolment,
  totpCode,
  totpSecretOn,
  totpServiceFor,
  wrongTotpCode,
} from './support.js';
import { actionOf } from '../../helpers/sessions.js';
import { csrfToken } from '../../helpers/user-agent.js';

const ENROL_WRONG = 'That code is not correct. Check the time on your device and try again.';
const RECOVERY_CODE = /^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/;
const REQUIRED = { mfa: { policy: 'required', reauthenticationSeconds: 300, totpIssuer: 'Gatehouse' } } as const;

function factorsOf(server: TestServer, userId: string) {
  return server.gatehouse.storage.storage.credentials.listSecondFactors(userId);
}

describe.each(HTTP_BACKENDS)('enrolment at sign-in when the server requires a second factor (%s)', (backend) => {
  let rp: TestRp;
  const server = useTestServer(backend, REQUIRED);
  beforeAll(async () => {
    rp = await buildRp(server);
  });

  it('shows a QR code and the secret, refuses a wrong confirmation storing nothing, then turns TOTP on with recovery codes', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    expect(first.page.status).toBe(200);
    expect(stepKind(first.page)).toBe('mfa_enrol');
    expect(first.page.html).toMatch(/<figure class="qr"[^>]*><svg[^>]*>[\s\S]*<\/svg>/);
    const secret = totpSecretOn(first.page);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    // Reloading shows the same secret: nothing new to scan.
    const reloaded = await follow(ua, first.page.url, server.issuer);
    expect(totpSecretOn(reloaded)).toBe(secret);

    for (const code of [
      await wrongTotpCode(secret),
      await totpCode('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'),
      'abcdef',
      '',
    ]) {
      const refused = await submitEnrolment(ua, reloaded, code);
      expect(refused.status).toBe(401);
      expect(refused.location).toBeNull();
      expect(stepKind(refused)).toBe('mfa_enrol');
      expect(alertText(refused.html)).toBe(ENROL_WRONG);
      expect(totpSecretOn(refused)).toBe(secret);
    }
    expect(await factorsOf(server, user.id)).toEqual([]);
    expect(await auditActions(server, user.id)).not.toContain('mfa.totp.enrolled');

    const shown = await submitEnrolment(ua, reloaded, await totpCode(secret));
    expect(shown.status).toBe(200);
    expect(stepKind(shown)).toBe('recovery_codes');
    const codes = recoveryCodesOn(shown);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(RECOVERY_CODE);
    expect((await factorsOf(server, user.id)).map((f) => f.type).sort()).toEqual([
      ...Array(10).fill('recovery_code'),
      'totp',
    ]);
    // The secret is stored sealed, never as typed.
    const stored = await server.gatehouse.storage.storage.credentials.findTotp(user.id);
    expect(stored?.secret).not.toContain(secret);

    const done = await submitContinue(ua, shown);
    expect(done.status).toBe(303);
    const tokens = await finishAtRp(ua, server, rp, done, first.request);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(authenticationOf(tokens)).toEqual({ amr: MFA_AMR, acr: ACR.mfa });
    expect(await auditActions(server, user.id)).toEqual(
      expect.arrayContaining(['mfa.recovery_codes.generated', 'mfa.totp.enrolled']),
    );

    // The next sign-in asks for a code; the confirming code is spent.
    const again = await passwordStep(new UserAgent(server.issuer), server, rp, user);
    expect(stepKind(again.page)).toBe('mfa');
    expect(offeredMethods(again.page)).toEqual(['totp', 'recovery_code']);
  });

  it('does not let the confirming code be used again at the next sign-in', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    const secret = totpSecretOn(first.page);
    const code = await totpCode(secret);
    expect(stepKind(await submitEnrolment(ua, first.page, code))).toBe('recovery_codes');

    const other = new UserAgent(server.issuer);
    const next = await passwordStep(other, server, rp, user);
    const replayed = await submitCode(other, next.page, 'totp', code);
    expect(replayed.status).toBe(401);
    expect(alertText(replayed.html)).toBe('That code was already used. Wait for the next code from your app.');
  });

  it('refuses to continue without a completed enrolment, and to continue twice', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    const continueUrl = new URL(`${new URL(first.page.url).pathname}/mfa/continue`, server.issuer).toString();

    const early = await ua.post(continueUrl, { csrf: csrfToken(first.page.html) });
    expect(early.status).toBe(400);
    expect(early.location).toBeNull();
    expect(errorCode(early.html)).toBe('invalid_request');
    expect(await factorsOf(server, user.id)).toEqual([]);

    // After it, the interaction is still at enrolment and can be finished.
    const shown = await submitEnrolment(ua, first.page, await totpCode(totpSecretOn(first.page)));
    const done = await submitContinue(ua, shown);
    expect(done.status).toBe(303);
    const twice = await submitContinue(ua, shown);
    expect(twice.status).toBeGreaterThanOrEqual(400);
    expect(twice.location).toBeNull();
    await finishAtRp(ua, server, rp, done, first.request);
  });

  it('does not let a pending enrolment replace an authenticator the user set up meanwhile', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    const pendingSecret = totpSecretOn(first.page);

    // The user turns on an app elsewhere (another browser, the account page).
    const ownSecret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    expect(await totpServiceFor(server).confirmEnrolment(user.id, ownSecret, await totpCode(ownSecret))).toBe(true);
    const before = await server.gatehouse.storage.storage.credentials.findTotp(user.id);

    // Whoever holds the old enrolment page cannot swap in the secret it shows.
    const late = await submitEnrolment(ua, first.page, await totpCode(pendingSecret));
    expect(late.status).toBe(409);
    expect(late.location).toBeNull();
    expect(stepKind(late)).toBe('mfa');
    expect(alertText(late.html)).toBe(
      'Two-step sign-in is already set up for this account. Enter a code from your app.',
    );
    expect(await server.gatehouse.storage.storage.credentials.findTotp(user.id)).toEqual(before);
    expect(await server.gatehouse.storage.storage.credentials.countRecoveryCodes(user.id)).toBe(0);
    // And the step is still open to the user's own app.
    const own = await submitCode(ua, late, 'totp', await totpCode(ownSecret, 1));
    expect(own.status).toBe(303);
    expect(authenticationOf(await finishAtRp(ua, server, rp, own, first.request)).acr).toBe(ACR.mfa);
  });

  it('enrols once when the confirmation is sent twice at the same moment (a double click): no page shows void codes', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    const secret = totpSecretOn(first.page);
    const code = await totpCode(secret);
    const answers = await Promise.all([submitEnrolment(ua, first.page, code), submitEnrolment(ua, first.page, code)]);
    const shown = answers.filter((a) => stepKind(a) === 'recovery_codes');
    expect(shown).toHaveLength(1);
    expect(await server.gatehouse.storage.storage.credentials.countRecoveryCodes(user.id)).toBe(10);
    expect((await auditActions(server, user.id)).filter((a) => a === 'mfa.totp.enrolled')).toHaveLength(1);

    // The codes on the page that was shown are the ones that work.
    const [page] = shown;
    if (!page) throw new Error('no recovery codes page');
    await finishAtRp(ua, server, rp, await submitContinue(ua, page), first.request);
    const other = new UserAgent(server.issuer);
    const next = await passwordStep(other, server, rp, user);
    const used = await submitCode(other, next.page, 'recovery_code', recoveryCodesOn(page)[0] ?? '');
    expect(used.status).toBe(303);
    expect(authenticationOf(await finishAtRp(other, server, rp, used, next.request)).acr).toBe(ACR.mfa);
  });

  it('returns access_denied to the RP when the user cancels enrolment, storing nothing', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    const cancelled = await ua.post(actionOf(first.page, '/abort'), { csrf: csrfToken(first.page.html) });
    expect(cancelled.status).toBe(303);
    const callback = await follow(ua, cancelled.location ?? '', server.issuer);
    expect(paramsOf(callback.location)).toMatchObject({ error: 'access_denied', state: first.request.state });
    expect(await factorsOf(server, user.id)).toEqual([]);
  });

  it('asks a user who already has an app for its code, not for enrolment', async () => {
    const user = await server.buildUser();
    await enrolAtSignIn(new UserAgent(server.issuer), server, rp, user);
    const again = await passwordStep(new UserAgent(server.issuer), server, rp, user);
    expect(stepKind(again.page)).toBe('mfa');
    expect(again.page.html).not.toContain('data-totp-secret');
  });
});

describe.each(HTTP_BACKENDS)('per-client second-factor policy (%s)', (backend) => {
  let required: TestRp;
  let optional: TestRp;
  const server = useSharedTestServer(backend);
  beforeAll(async () => {
    required = await buildRp(server, { name: 'Payroll', mfa: 'required' });
    optional = await buildRp(server, { name: 'Wiki', mfa: 'optional' });
  });

  it('makes a user without a factor enrol for a client that requires one', async () => {
    const user = await server.buildUser();
    const { tokens, codes } = await enrolAtSignIn(new UserAgent(server.issuer), server, required, user);
    expect(codes).toHaveLength(10);
    expect(authenticationOf(tokens)).toEqual({ amr: MFA_AMR, acr: ACR.mfa });
    expect(authenticationOf(tokens).amr as string[]).toContain('otp');
  });

  it('does not ask users without a factor on a client with mfa optional, nor on one left at the default', async () => {
    const user = await server.buildUser();
    const byDefault = await buildRp(server);
    for (const rp of [optional, byDefault]) {
      const ua = new UserAgent(server.issuer);
      const first = await passwordStep(ua, server, rp, user);
      expect(first.page.status).toBe(303);
      const tokens = await finishAtRp(ua, server, rp, first.page, first.request);
      expect(authenticationOf(tokens)).toEqual({ amr: ['pwd'], acr: ACR.password });
    }
    expect(await factorsOf(server, user.id)).toEqual([]);
  });

  it('asks for enrolment when a password-only session moves on to a client that requires a factor', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, optional, user);
    await finishAtRp(ua, server, optional, first.page, first.request);

    const next = await passwordStep(ua, server, required, user);
    expect(next.steps).toEqual([]);
    expect(stepKind(next.page)).toBe('mfa_enrol');
    const shown = await submitEnrolment(ua, next.page, await totpCode(totpSecretOn(next.page)));
    const tokens = await finishAtRp(ua, server, required, await submitContinue(ua, shown), next.request);
    expect(authenticationOf(tokens)).toEqual({ amr: MFA_AMR, acr: ACR.mfa });
  });

  it('takes the policy from `clients create --mfa required` and refuses other values', async () => {
    const created = await cli(
      server,
      'clients',
      'create',
      '--name',
      'CLI RP',
      '--redirect-uri',
      'http://127.0.0.1:9999/cb',
      '--first-party',
      '--mfa',
      'required',
      '--json',
    );
    expect(created.code).toBe(0);
    const client = json<{ client_id: string; client_secret: string }>(created);
    const rp: TestRp = {
      client: {
        clientId: client.client_id,
        clientSecret: client.client_secret,
        redirectUri: 'http://127.0.0.1:9999/cb',
        input: {
          name: 'CLI RP',
          redirectUris: [],
          postLogoutRedirectUris: [],
          public: false,
          firstParty: true,
          grantTypes: [],
          scope: '',
        },
      },
      config: await discoverRp(server.issuer, { clientId: client.client_id, clientSecret: client.client_secret }),
    };
    const first = await passwordStep(new UserAgent(server.issuer), server, rp, await server.buildUser());
    expect(stepKind(first.page)).toBe('mfa_enrol');

    const refused = await cli(
      server,
      'clients',
      'create',
      '--name',
      'Bad',
      '--redirect-uri',
      'http://127.0.0.1:9999/cb',
      '--mfa',
      'sometimes',
    );
    expect(refused.code).toBe(2);
    expect(refused.err.join('\n')).toMatch(/mfa/);
  });
});
