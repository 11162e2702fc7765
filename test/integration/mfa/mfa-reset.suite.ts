import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { cli, json } from '../../helpers/cli.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { UserAgent, buildRp, type TestRp } from '../../helpers/sessions.js';
import {
  ACR,
  MFA_AMR,
  auditOf,
  authenticationOf,
  finishAtRp,
  newTotpSecret,
  passwordStep,
  stepKind,
  submitCode,
  totpCode,
  wrongTotpCode,
} from './support.js';

describe.each(HTTP_BACKENDS)('gatehouse users mfa-reset and the second-step audit trail (%s)', (backend) => {
  let rp: TestRp;
  const server = useSharedTestServer(backend);
  beforeAll(async () => {
    rp = await buildRp(server);
  });

  /** A user created the operator's way, with an imported authenticator secret. */
  async function createWithTotp() {
    const email = uniqueEmail('reset');
    const password = 'correct horse battery';
    const secret = newTotpSecret();
    const created = await cli(
      server,
      'users',
      'create',
      '--email',
      email,
      '--password',
      password,
      '--totp-secret',
      secret,
      '--json',
    );
    expect(created.code).toBe(0);
    return { id: json<{ id: string }>(created).id, email, password, secret };
  }

  it('removes every second factor: the next sign-in has no second step, and mfa.reset is audited', async () => {
    const user = await createWithTotp();
    // Recovery codes too (as enrolment would leave them).
    await server.gatehouse.storage.storage.credentials.replaceRecoveryCodes(user.id, ['h1', 'h2']);
    const before = await passwordStep(new UserAgent(server.issuer), server, rp, user);
    expect(stepKind(before.page)).toBe('mfa');

    const reset = await cli(server, 'users', 'mfa-reset', '--email', user.email, '--json');
    expect(reset.code).toBe(0);
    expect(json(reset)).toEqual({ email: user.email, removed: 3 });
    expect(await server.gatehouse.storage.storage.credentials.listSecondFactors(user.id)).toEqual([]);

    const ua = new UserAgent(server.issuer);
    const after = await passwordStep(ua, server, rp, user);
    expect(after.page.status).toBe(303);
    const tokens = await finishAtRp(ua, server, rp, after.page, after.request);
    expect(authenticationOf(tokens)).toEqual({ amr: ['pwd'], acr: ACR.password });

    const resets = (await auditOf(server, user.id)).filter((e) => e.action === 'mfa.reset');
    expect(resets).toEqual([expect.objectContaining({ subjectId: user.id, actorId: null, details: { removed: 3 } })]);

    // A second reset finds nothing to remove and says so.
    const again = await cli(server, 'users', 'mfa-reset', '--email', user.email);
    expect(again.code).toBe(0);
    expect(again.out.join('\n')).toContain('removed 0 second-factor credential(s)');
  });

  it('refuses an unknown email or a missing one with exit code 2, changing nothing', async () => {
    const user = await createWithTotp();
    const unknown = await cli(server, 'users', 'mfa-reset', '--email', uniqueEmail('nobody'));
    expect(unknown.code).toBe(2);
    expect(unknown.err.join('\n')).toMatch(/no user with email/);
    const missing = await cli(server, 'users', 'mfa-reset');
    expect(missing.code).toBe(2);
    expect(missing.err.join('\n')).toMatch(/email/);
    expect((await server.gatehouse.storage.storage.credentials.listSecondFactors(user.id)).map((f) => f.type)).toEqual([
      'totp',
    ]);
    expect((await auditOf(server, user.id)).map((e) => e.action)).not.toContain('mfa.reset');
  });

  it('records a failure, a success and a replay of the second step with where they came from', async () => {
    const user = await createWithTotp();
    const code = await totpCode(user.secret);

    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    const wrong = await submitCode(ua, first.page, 'totp', await wrongTotpCode(user.secret));
    expect(wrong.status).toBe(401);
    const right = await submitCode(ua, wrong, 'totp', code);
    expect(right.status).toBe(303);
    expect(authenticationOf(await finishAtRp(ua, server, rp, right, first.request))).toEqual({
      amr: MFA_AMR,
      acr: ACR.mfa,
    });

    const other = new UserAgent(server.issuer);
    const second = await passwordStep(other, server, rp, user);
    expect((await submitCode(other, second.page, 'totp', code)).status).toBe(401);

    const events = await auditOf(server, user.id);
    const mfaEvents = events.filter((e) => e.action.startsWith('signin.mfa.'));
    expect(mfaEvents.map((e) => e.action).sort()).toEqual([
      'signin.mfa.failed',
      'signin.mfa.replayed',
      'signin.mfa.succeeded',
    ]);
    for (const event of mfaEvents) {
      expect(event).toMatchObject({ subjectId: user.id, details: { method: 'totp' } });
      expect(event.ip).toMatch(/127\.0\.0\.1$/);
      expect(event.userAgent).toEqual(expect.any(String));
    }
    // Only the success names the user as the actor: a failure may be anyone with the password.
    expect(mfaEvents.find((e) => e.action === 'signin.mfa.succeeded')?.actorId).toBe(user.id);
    expect(mfaEvents.filter((e) => e.action !== 'signin.mfa.succeeded').map((e) => e.actorId)).toEqual([null, null]);
  });
});
