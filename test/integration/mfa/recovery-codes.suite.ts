import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { UserAgent, alertText, buildRp, type TestRp } from '../../helpers/sessions.js';
import {
  ACR,
  MFA_AMR,
  auditOf,
  authenticationOf,
  enrolAtSignIn,
  finishAtRp,
  offeredMethods,
  passwordStep,
  stepKind,
  submitCode,
  type Enrolled,
} from './support.js';
import type { TestUser } from '../../helpers/factories.js';

const REFUSED = 'That recovery code is not correct or was already used.';

describe.each(HTTP_BACKENDS)('recovery codes (%s)', (backend) => {
  let rp: TestRp;
  // The "mfa required" path: users without a factor enrol at sign-in and get their codes there.
  const server = useTestServer(backend, {
    mfa: { policy: 'required', reauthenticationSeconds: 300, totpIssuer: 'Gatehouse' },
    // More wrong codes than the default lockout allows from one address (tested in test/integration/limits/).
    lockout: { freeFailures: 10 },
  });
  beforeAll(async () => {
    rp = await buildRp(server);
  });

  const remaining = (userId: string) => server.gatehouse.storage.storage.credentials.countRecoveryCodes(userId);

  async function enrolledUser(): Promise<{ user: TestUser; enrolled: Enrolled }> {
    const user = await server.buildUser();
    const enrolled = await enrolAtSignIn(new UserAgent(server.issuer), server, rp, user);
    expect(enrolled.codes).toHaveLength(10);
    return { user, enrolled };
  }

  /** A new browser at the second step of `user`'s sign-in. */
  async function atCodePage(user: TestUser) {
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    expect(stepKind(first.page)).toBe('mfa');
    expect(offeredMethods(first.page)).toContain('recovery_code');
    return { ua, ...first };
  }

  it('signs in once with a recovery code: amr pwd otp mfa, the count drops, a second use is refused', async () => {
    const { user, enrolled } = await enrolledUser();
    expect(await remaining(user.id)).toBe(10);
    const [code] = enrolled.codes;
    if (!code) throw new Error('no code');

    const first = await atCodePage(user);
    const answer = await submitCode(first.ua, first.page, 'recovery_code', code);
    expect(answer.status).toBe(303);
    const tokens = await finishAtRp(first.ua, server, rp, answer, first.request);
    expect(authenticationOf(tokens)).toEqual({ amr: MFA_AMR, acr: ACR.mfa });
    expect(await remaining(user.id)).toBe(9);
    const events = await auditOf(server, user.id);
    expect(events.filter((e) => e.action === 'mfa.recovery_code.used')).toEqual([
      expect.objectContaining({ actorId: user.id, details: { remaining: 9 } }),
    ]);
    expect(events.filter((e) => e.action === 'signin.mfa.succeeded').map((e) => e.details)).toContainEqual({
      method: 'recovery_code',
    });
    expect(JSON.stringify(events)).not.toContain(code);

    const second = await atCodePage(user);
    const reused = await submitCode(second.ua, second.page, 'recovery_code', code);
    expect(reused.status).toBe(401);
    expect(reused.location).toBeNull();
    expect(stepKind(reused)).toBe('mfa');
    expect(alertText(reused.html)).toBe(REFUSED);
    expect(await remaining(user.id)).toBe(9);

    // The page offers the other codes still; the next one works in the same interaction.
    const next = await submitCode(second.ua, reused, 'recovery_code', enrolled.codes[1] ?? '');
    expect(next.status).toBe(303);
    expect(await remaining(user.id)).toBe(8);
  });

  it('reads a code the way a person types it: any case, spaces, without dashes', async () => {
    const { user, enrolled } = await enrolledUser();
    const typed = ` ${(enrolled.codes[2] ?? '').toLowerCase().replace(/-/g, ' ')} `;
    const { ua, page, request } = await atCodePage(user);
    const answer = await submitCode(ua, page, 'recovery_code', typed);
    expect(answer.status).toBe(303);
    await finishAtRp(ua, server, rp, answer, request);
    expect(await remaining(user.id)).toBe(9);
  });

  it('refuses codes of the wrong form, from another account, or sent as a TOTP code, using none up', async () => {
    const { user, enrolled } = await enrolledUser();
    const { enrolled: others } = await enrolledUser();
    const { ua, page, request } = await atCodePage(user);
    const [mine] = enrolled.codes;
    if (!mine) throw new Error('no code');

    const attempts: Array<['totp' | 'recovery_code', string]> = [
      ['recovery_code', 'not-a-code'],
      // I, L and O are not in the alphabet.
      ['recovery_code', 'ABCD-EFGH-IJLO'],
      ['recovery_code', `${mine}-ABCD`],
      ['recovery_code', ''],
      ['recovery_code', 'A'.repeat(200)],
      ['recovery_code', others.codes[0] ?? ''],
      ['totp', mine],
    ];
    // Seven failures: under this server's lockout (10 from one address).
    let current = page;
    for (const [method, code] of attempts) {
      current = await submitCode(ua, current, method, code);
      expect(current.status).toBe(401);
      expect(current.location).toBeNull();
      expect(alertText(current.html)).toBe(method === 'totp' ? 'That code is not correct.' : REFUSED);
    }
    expect(await remaining(user.id)).toBe(10);
    // Each is audited, but for the oversized one, which the route drops unread (it cannot match).
    const failures = (await auditOf(server, user.id)).filter((e) => e.action === 'signin.mfa.failed');
    expect(failures).toHaveLength(attempts.filter(([, code]) => code.length <= 64).length);
    expect(failures.filter((e) => e.details.method === 'totp')).toHaveLength(1);

    // None of that closed the interaction.
    const answer = await submitCode(ua, current, 'recovery_code', mine);
    expect(answer.status).toBe(303);
    await finishAtRp(ua, server, rp, answer, request);
  });

  it('lets exactly one of two browsers use the same code at the same moment', async () => {
    const { user, enrolled } = await enrolledUser();
    const code = enrolled.codes[3] ?? '';
    const browsers = await Promise.all([atCodePage(user), atCodePage(user)]);
    const answers = await Promise.all(browsers.map((b) => submitCode(b.ua, b.page, 'recovery_code', code)));
    expect(answers.map((a) => a.status).sort()).toEqual([303, 401]);
    expect(await remaining(user.id)).toBe(9);
  });
});
