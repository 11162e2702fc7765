import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { UserAgent, alertText, buildRp, paramsOf, type TestRp } from '../../helpers/sessions.js';
import {
  ACR,
  MFA_AMR,
  authenticationOf,
  buildTotpUser,
  finishAtRp,
  passwordStep,
  stepKind,
  submitCode,
  submitContinue,
  submitEnrolment,
  totpCode,
  totpSecretOn,
  totpServiceFor,
  wrongTotpCode,
  type Tokens,
} from './support.js';
import type { TestUser } from '../../helpers/factories.js';

describe.each(HTTP_BACKENDS)('acr step-up and re-authentication (%s)', (backend) => {
  let rp: TestRp;
  const server = useSharedTestServer(backend);
  beforeAll(async () => {
    rp = await buildRp(server);
  });

  /** A browser signed in with the password alone (the user has no second factor yet). */
  async function passwordSession(user: TestUser): Promise<{ ua: UserAgent; tokens: Tokens }> {
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    expect(first.page.status).toBe(303);
    const tokens = await finishAtRp(ua, server, rp, first.page, first.request);
    expect(authenticationOf(tokens)).toEqual({ amr: ['pwd'], acr: ACR.password });
    return { ua, tokens };
  }

  it('asks a user without a factor to enrol when the RP asks for the mfa acr, without asking for the password again', async () => {
    const user = await server.buildUser();
    const { ua } = await passwordSession(user);

    const stepUp = await passwordStep(ua, server, rp, user, { acr_values: ACR.mfa });
    expect(stepUp.steps).toEqual([]);
    expect(stepKind(stepUp.page)).toBe('mfa_enrol');
    const secret = totpSecretOn(stepUp.page);
    const wrong = await submitEnrolment(ua, stepUp.page, await wrongTotpCode(secret));
    expect(wrong.status).toBe(401);
    const shown = await submitEnrolment(ua, wrong, await totpCode(secret));
    expect(stepKind(shown)).toBe('recovery_codes');
    const tokens = await finishAtRp(ua, server, rp, await submitContinue(ua, shown), stepUp.request);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(authenticationOf(tokens)).toEqual({ amr: MFA_AMR, acr: ACR.mfa });
  });

  it('asks only for the code when a user who enrolled after a password sign-in is stepped up, then remembers it', async () => {
    const user = await server.buildUser();
    const { ua, tokens: before } = await passwordSession(user);
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ';
    expect(await totpServiceFor(server).confirmEnrolment(user.id, secret, await totpCode(secret))).toBe(true);

    const stepUp = await passwordStep(ua, server, rp, user, { acr_values: ACR.mfa });
    expect(stepUp.steps).toEqual([]);
    expect(stepKind(stepUp.page)).toBe('mfa');
    const wrong = await submitCode(ua, stepUp.page, 'totp', await wrongTotpCode(secret));
    expect(wrong.status).toBe(401);
    expect(alertText(wrong.html)).toBe('That code is not correct.');
    // The code that confirmed enrolment is spent; the next one is accepted.
    const answer = await submitCode(ua, wrong, 'totp', await totpCode(secret, 1));
    expect(answer.status).toBe(303);
    const tokens = await finishAtRp(ua, server, rp, answer, stepUp.request);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(tokens.claims()?.sid).toBe(before.claims()?.sid);
    expect(authenticationOf(tokens)).toEqual({ amr: MFA_AMR, acr: ACR.mfa });

    // The session now meets the mfa acr: asking again shows no page.
    for (const params of [{ acr_values: ACR.mfa }, {}] as Array<Record<string, string>>) {
      const again = await passwordStep(ua, server, rp, user, params);
      expect(again.steps).toEqual([]);
      expect(again.page.status).toBe(303);
      expect(authenticationOf(await finishAtRp(ua, server, rp, again.page, again.request))).toEqual({
        amr: MFA_AMR,
        acr: ACR.mfa,
      });
    }
  });

  it('asks once for an acr a TOTP user cannot reach and reports the one reached, without looping', async () => {
    const user = await server.buildUser();
    const { ua } = await passwordSession(user);
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXR';
    expect(await totpServiceFor(server).confirmEnrolment(user.id, secret, await totpCode(secret))).toBe(true);

    const stepUp = await passwordStep(ua, server, rp, user, { acr_values: ACR.phishingResistant });
    expect(stepUp.steps).toEqual([]);
    expect(stepKind(stepUp.page)).toBe('mfa');
    const answer = await submitCode(ua, stepUp.page, 'totp', await totpCode(secret, 1));
    expect(answer.status).toBe(303);
    const tokens = await finishAtRp(ua, server, rp, answer, stepUp.request);
    expect(authenticationOf(tokens)).toEqual({ amr: MFA_AMR, acr: ACR.mfa });
  });

  it('changes nothing for acr_values it does not know, or for the password acr, and steps up when a known stronger value is listed', async () => {
    const user = await server.buildUser();
    const { ua } = await passwordSession(user);

    for (const acrValues of ['urn:example:unknown', ACR.password, `urn:example:unknown ${ACR.password}`]) {
      const next = await passwordStep(ua, server, rp, user, { acr_values: acrValues });
      expect(next.steps).toEqual([]);
      expect(next.page.status).toBe(303);
      expect(authenticationOf(await finishAtRp(ua, server, rp, next.page, next.request))).toEqual({
        amr: ['pwd'],
        acr: ACR.password,
      });
    }

    const stronger = await passwordStep(ua, server, rp, user, { acr_values: `urn:example:unknown ${ACR.mfa}` });
    expect(stepKind(stronger.page)).toBe('mfa_enrol');
  });

  it('answers prompt=none with interaction_required when the session is weaker than the requested acr', async () => {
    const user = await server.buildUser();
    const { ua } = await passwordSession(user);
    const silent = await passwordStep(ua, server, rp, user, { acr_values: ACR.mfa, prompt: 'none' });
    expect(silent.page.status).toBe(303);
    expect(paramsOf(silent.page.location)).toMatchObject({ error: 'interaction_required' });
    expect(paramsOf(silent.page.location).code).toBeUndefined();
  });

  it('asks for the password and the second step again with max_age=0', async () => {
    const user = await buildTotpUser(server);
    const ua = new UserAgent(server.issuer);
    const used = await totpCode(user.secret);
    const first = await passwordStep(ua, server, rp, user);
    const firstTokens = await finishAtRp(ua, server, rp, await submitCode(ua, first.page, 'totp', used), first.request);
    expect(authenticationOf(firstTokens).acr).toBe(ACR.mfa);

    // Without max_age the session is enough.
    const quiet = await passwordStep(ua, server, rp, user);
    expect(quiet.steps).toEqual([]);
    expect(quiet.page.status).toBe(303);
    await finishAtRp(ua, server, rp, quiet.page, quiet.request);

    const fresh = await passwordStep(ua, server, rp, user, { max_age: '0' });
    expect(fresh.steps).toEqual(['login']);
    expect(stepKind(fresh.page)).toBe('mfa');
    // The code of the first sign-in is spent.
    const replayed = await submitCode(ua, fresh.page, 'totp', used);
    expect(replayed.status).toBe(401);
    expect(alertText(replayed.html)).toBe('That code was already used. Wait for the next code from your app.');
    const answer = await submitCode(ua, replayed, 'totp', await totpCode(user.secret, 1));
    expect(answer.status).toBe(303);
    const tokens = await finishAtRp(ua, server, rp, answer, fresh.request);
    expect(authenticationOf(tokens)).toEqual({ amr: MFA_AMR, acr: ACR.mfa });
    expect(tokens.claims()?.auth_time).toBeGreaterThanOrEqual(firstTokens.claims()?.auth_time ?? Infinity);
  });
});
