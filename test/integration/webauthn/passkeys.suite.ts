import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { buildRp, type TestRp } from '../../helpers/sessions.js';
import { UserAgent } from '../../helpers/user-agent.js';
import {
  ACR,
  SoftwareAuthenticator,
  enrolKey,
  finishAtRp,
  json,
  keyOptions,
  openLogin,
  openSecondStep,
  passkeyOptions,
  verifyKey,
  verifyPasskey,
} from './support.js';

interface ErrorBody {
  error: string;
  error_description: string;
}

describe.each(HTTP_BACKENDS)('WebAuthn sign-in (%s)', (backend) => {
  let rp: TestRp;
  // A domain issuer, as WebAuthn needs: on an IP address no passkey sign-in is offered.
  const server = useTestServer(backend, {}, { issuerHost: 'localhost' });
  beforeAll(async () => {
    rp = await buildRp(server);
  });

  const credentials = () => server.gatehouse.storage.storage.credentials;
  const actions = async (userId: string) =>
    (await server.gatehouse.storage.storage.audit.forSubject(userId, 50)).map((e) => e.action);
  const counterOf = async (userId: string) => Number((await credentials().listWebAuthn(userId))[0]?.data.counter);
  const authenticator = () => new SoftwareAuthenticator(server.issuer);

  it('registers a passkey on /account and signs in with it alone: amr hwk user mfa, acr phishing-resistant, no second step', async () => {
    const user = await server.buildUser();
    const device = authenticator();
    const credential = await enrolKey(new UserAgent(server.issuer), user, device, 'passkey', 'My phone');
    const [row] = await credentials().listWebAuthn(user.id);
    expect(row).toMatchObject({ externalId: credential.id, label: 'My phone' });
    expect(row?.data).toMatchObject({ kind: 'passkey', counter: 0, transports: ['internal'] });
    expect(await actions(user.id)).toContain('mfa.webauthn.registered');

    const ua = new UserAgent(server.issuer);
    const login = await openLogin(ua, rp, server);
    expect(login.page.html).toContain('autocomplete="username webauthn"');
    const options = await passkeyOptions(ua, login);
    expect(options).not.toHaveProperty('allowCredentials');
    expect(options).toMatchObject({ userVerification: 'required', rpId: 'localhost' });
    const claims = await finishAtRp(
      ua,
      server,
      rp,
      login.request,
      await verifyPasskey(ua, login, device.get(options, credential)),
    );
    expect(claims).toMatchObject({ sub: user.id, amr: ['hwk', 'user', 'mfa'], acr: ACR.phishingResistant });
    expect(await counterOf(user.id)).toBe(1);
    expect(await actions(user.id)).toContain('signin.passkey.succeeded');
  });

  it('refuses a reused challenge and an assertion made for another sign-in, and changes nothing', async () => {
    const user = await server.buildUser();
    const device = authenticator();
    const credential = await enrolKey(new UserAgent(server.issuer), user, device);

    const ua = new UserAgent(server.issuer);
    const login = await openLogin(ua, rp, server);
    const assertion = device.get(await passkeyOptions(ua, login), credential);
    const first = await verifyPasskey(ua, login, assertion);
    expect(first.status).toBe(200);
    const replay = await verifyPasskey(ua, login, assertion);
    expect(replay.status).toBe(400);
    expect(json<ErrorBody>(replay)).toEqual({
      error: 'challenge_expired',
      error_description: 'This request expired or was already used. Try again.',
    });
    expect(await counterOf(user.id)).toBe(1);

    // An assertion over one browser's challenge, sent in another browser's sign-in.
    const victim = new UserAgent(server.issuer);
    const victimLogin = await openLogin(victim, rp, server);
    await passkeyOptions(victim, victimLogin);
    const attacker = new UserAgent(server.issuer);
    const attackerLogin = await openLogin(attacker, rp, server);
    const stolen = device.get(await passkeyOptions(attacker, attackerLogin), credential);
    const refused = await verifyPasskey(victim, victimLogin, stolen);
    expect(refused.status).toBe(400);
    expect(json<ErrorBody>(refused).error).toBe('challenge_expired');
    expect(await counterOf(user.id)).toBe(1);
    const still = await victim.get(`/interaction/${victimLogin.uid}`);
    expect(still.html).toContain('Sign in with a passkey');
  });

  it.each([
    ['of another shape (a field of the wrong type)', '{"purpose":"passkey","userId":42}'],
    ['that is not JSON', 'not json'],
  ])('refuses a stored challenge %s as an expired one, and changes nothing', async (_what, stored) => {
    const user = await server.buildUser();
    const device = authenticator();
    const credential = await enrolKey(new UserAgent(server.issuer), user, device);
    const ua = new UserAgent(server.issuer);
    const login = await openLogin(ua, rp, server);
    const options = await passkeyOptions(ua, login);
    // What the service stored under this sign-in's challenge, replaced (src/accounts/webauthn.ts challengeKey).
    await server.gatehouse.storage.storage.kv.set(`webauthn:interaction:${login.uid}:${options.challenge}`, stored, 60);
    const refused = await verifyPasskey(ua, login, device.get(options, credential));
    expect(refused.status).toBe(400);
    expect(json<ErrorBody>(refused).error).toBe('challenge_expired');
    expect(await counterOf(user.id)).toBe(0);
  });

  it('refuses an unknown credential with a clear message', async () => {
    const device = authenticator();
    const { credential } = device.create({ challenge: 'AAAA', rp: { id: 'localhost' }, user: { id: 'bm9ib2R5' } });
    const ua = new UserAgent(server.issuer);
    const login = await openLogin(ua, rp, server);
    const refused = await verifyPasskey(ua, login, device.get(await passkeyOptions(ua, login), credential));
    expect(refused.status).toBe(401);
    expect(json<ErrorBody>(refused)).toEqual({
      error: 'unknown_credential',
      error_description: 'This passkey is not registered here. Sign in with your password, or use another passkey.',
    });
  });

  it('refuses malformed input, a missing CSRF token and another origin', async () => {
    const ua = new UserAgent(server.issuer);
    const login = await openLogin(ua, rp, server);
    const garbage = await verifyPasskey(ua, login, { id: 'x', type: 'public-key' });
    expect(garbage.status).toBe(400);
    expect(json<ErrorBody>(garbage).error).toBe('invalid_request');
    const noCsrf = await ua.postJson(`/interaction/${login.uid}/webauthn/passkey/options`, {});
    expect(noCsrf.status).toBe(403);
    expect(json<ErrorBody>(noCsrf).error).toBe('forbidden');
    const cross = await ua.postJson(
      `/interaction/${login.uid}/webauthn/passkey/options`,
      {},
      { 'x-csrf-token': login.csrf, origin: 'https://evil.example' },
    );
    expect(cross.status).toBe(403);
    const asForm = await ua.post(`/interaction/${login.uid}/webauthn/passkey/options`, { csrf: login.csrf });
    expect(asForm.status).toBe(415);
    const wrongStep = await ua.postJson(
      `/interaction/${login.uid}/webauthn/key/options`,
      {},
      { 'x-csrf-token': login.csrf },
    );
    expect(wrongStep.status).toBe(400);
  });

  it('refuses a signature counter that goes backwards and records it; 0 and 0 is fine', async () => {
    const user = await server.buildUser();
    const device = authenticator();
    const credential = await enrolKey(new UserAgent(server.issuer), user, device);
    const signIn = async (counter: number) => {
      const ua = new UserAgent(server.issuer);
      const login = await openLogin(ua, rp, server);
      return verifyPasskey(ua, login, device.get(await passkeyOptions(ua, login), credential, { counter }));
    };
    expect((await signIn(0)).status).toBe(200);
    expect((await signIn(0)).status).toBe(200);
    expect((await signIn(7)).status).toBe(200);
    const cloned = await signIn(7);
    expect(cloned.status).toBe(401);
    expect(json<ErrorBody>(cloned).error).toBe('credential_suspect');
    expect((await signIn(3)).status).toBe(401);
    expect(await counterOf(user.id)).toBe(7);
    const events = await server.gatehouse.storage.storage.audit.forSubject(user.id, 50);
    const regressions = events.filter((e) => e.action === 'mfa.webauthn.counter_regressed');
    expect(regressions).toHaveLength(2);
    expect(regressions.map((e) => e.details)).toEqual(
      expect.arrayContaining([expect.objectContaining({ stored: 7, presented: 3 })]),
    );
  });

  it('takes a security key as the second factor after a password: amr pwd hwk mfa', async () => {
    const user = await server.buildUser();
    const key = new SoftwareAuthenticator(server.issuer, { userVerified: false });
    const credential = await enrolKey(new UserAgent(server.issuer), user, key, 'security_key');
    expect((await credentials().listWebAuthn(user.id))[0]).toMatchObject({
      label: 'Security key',
      data: expect.objectContaining({ kind: 'security_key' }),
    });

    const ua = new UserAgent(server.issuer);
    const step = await openSecondStep(ua, rp, server, user);
    expect(step.page.html).toContain('Use your security key');
    const options = await keyOptions(ua, step);
    expect(options).toMatchObject({ allowCredentials: [expect.objectContaining({ id: credential.id })] });
    const claims = await finishAtRp(
      ua,
      server,
      rp,
      step.request,
      await verifyKey(ua, step, key.get(options, credential)),
    );
    expect(claims).toMatchObject({ sub: user.id, amr: ['pwd', 'hwk', 'mfa'], acr: ACR.phishingResistant });
    expect(await actions(user.id)).toContain('signin.mfa.succeeded');
  });

  it("refuses another user's key at the second step, and an assertion made for another user's challenge", async () => {
    const alice = await server.buildUser();
    const bob = await server.buildUser();
    const aliceKey = authenticator();
    const bobKey = authenticator();
    const aliceCredential = await enrolKey(new UserAgent(server.issuer), alice, aliceKey, 'security_key');
    await enrolKey(new UserAgent(server.issuer), bob, bobKey, 'security_key');

    // Alice holds Bob's password: her key on Bob's challenge is not Bob's key.
    const ua = new UserAgent(server.issuer);
    const step = await openSecondStep(ua, rp, server, bob);
    const wrongKey = await verifyKey(ua, step, aliceKey.get(await keyOptions(ua, step), aliceCredential));
    expect(wrongKey.status).toBe(401);
    expect(json<ErrorBody>(wrongKey)).toEqual({
      error: 'wrong_credential',
      error_description: 'This security key is not registered to your account.',
    });
    expect(await counterOf(alice.id)).toBe(0);

    // An assertion Alice made for her own sign-in's challenge, replayed into Bob's.
    const aliceUa = new UserAgent(server.issuer);
    const aliceStep = await openSecondStep(aliceUa, rp, server, alice);
    const hers = aliceKey.get(await keyOptions(aliceUa, aliceStep), aliceCredential);
    await keyOptions(ua, step);
    const foreign = await verifyKey(ua, step, hers);
    expect(foreign.status).toBe(400);
    expect(json<ErrorBody>(foreign).error).toBe('challenge_expired');
    // Bob's sign-in is still at the second step; Alice's challenge was bound to her sign-in.
    expect((await ua.get(`/interaction/${step.uid}`)).html).toContain('Confirm it is you');
    expect((await verifyKey(aliceUa, aliceStep, hers)).status).toBe(200);
    expect(await actions(bob.id)).toContain('signin.mfa.failed');
  });
});
