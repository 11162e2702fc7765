import { createWebAuthnService } from '../../../src/accounts/webauthn.js';
import { createAuditLog } from '../../../src/security/audit.js';
import { createMemoryStore } from '../../../src/storage/key-value-store.js';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, useTestServer } from '../../helpers/server.js';
import { UserAgent, csrfToken } from '../../helpers/user-agent.js';
import { accountCsrf, openAccountPage } from '../../helpers/account-pages.js';
import type { CreationOptions } from '../../helpers/software-authenticator.js';
import { SoftwareAuthenticator, enrolKey, json } from './support.js';
import { testClock } from '../../helpers/clock.js';

interface ErrorBody {
  error: string;
  error_description: string;
}

describe.each(HTTP_BACKENDS)('passkeys and security keys on /account (%s)', (backend) => {
  // WebAuthn needs a domain as RP ID: on an IP-address issuer /account offers no keys (account-page.test.ts).
  const server = useTestServer(backend, {}, { issuerHost: 'localhost' });

  const storage = () => server.gatehouse.storage.storage;
  const actions = async (userId: string) => (await storage().audit.forSubject(userId, 50)).map((e) => e.action);

  it('lists keys, renames and removes them with recorded events; another user cannot touch them', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    // Control characters are cleaned from a label; U+0000 is refused before that (by every JSON
    // parser of ours: src/http/body-parser.ts), see test/integration/input/unstorable-text.test.ts.
    await enrolKey(ua, user, new SoftwareAuthenticator(server.issuer), 'passkey', 'Laptop\u0001 ');
    let page = await openAccountPage(ua, user.email, user.password);
    const [key] = await storage().credentials.listWebAuthn(user.id);
    if (!key) throw new Error('no key');
    expect(key.label).toBe('Laptop');
    expect(page.html).toContain(`data-key-id="${key.id}"`);
    expect(page.html).toContain('data-webauthn="register"');
    expect(page.html).toContain('<script src="/assets/webauthn.js" defer></script>');

    const renamed = await ua.post(`/account/webauthn/${key.id}/rename`, {
      csrf: accountCsrf(page),
      label: 'Work <laptop>',
    });
    expect(renamed.status).toBe(303);
    expect(renamed.location).toContain('/account?done=key-renamed');
    page = await ua.get('/account?done=key-renamed');
    expect(page.html).toContain('data-key-label>Work &lt;laptop&gt;<');
    expect(page.html).toContain('The name was changed.');

    const other = await server.buildUser();
    const intruder = new UserAgent(server.issuer);
    const intruderPage = await openAccountPage(intruder, other.email, other.password);
    const foreign = await intruder.post(`/account/webauthn/${key.id}/remove`, { csrf: accountCsrf(intruderPage) });
    expect(foreign.status).toBe(404);
    expect(
      (await intruder.post('/account/webauthn/not-a-uuid/rename', { csrf: accountCsrf(intruderPage), label: 'x' }))
        .status,
    ).toBe(404);
    expect(await storage().credentials.listWebAuthn(user.id)).toHaveLength(1);

    expect((await ua.post(`/account/webauthn/${key.id}/remove`, { csrf: 'forged' })).status).toBe(403);
    const removed = await ua.post(`/account/webauthn/${key.id}/remove`, { csrf: accountCsrf(page) });
    expect(removed.status).toBe(303);
    expect(await storage().credentials.listWebAuthn(user.id)).toHaveLength(0);
    expect(await actions(user.id)).toEqual(
      expect.arrayContaining(['mfa.webauthn.registered', 'mfa.webauthn.renamed', 'mfa.webauthn.removed']),
    );
    const renameEvent = (await storage().audit.forSubject(user.id, 50)).find(
      (e) => e.action === 'mfa.webauthn.renamed',
    );
    expect(renameEvent?.details).toMatchObject({ from: 'Laptop', to: 'Work <laptop>' });
  });

  it('registration needs the JSON call from this site with the CSRF token; a bad response changes nothing', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    const csrf = accountCsrf(page);
    expect((await ua.postJson('/account/webauthn/registration/options', { kind: 'passkey' })).status).toBe(403);
    expect(
      (
        await ua.postJson(
          '/account/webauthn/registration/options',
          { kind: 'passkey' },
          { 'x-csrf-token': csrf, origin: 'https://evil.example' },
        )
      ).status,
    ).toBe(403);
    const badKind = await ua.postJson(
      '/account/webauthn/registration/options',
      { kind: 'fingerprint' },
      { 'x-csrf-token': csrf },
    );
    expect(badKind.status).toBe(400);
    expect(json<ErrorBody>(badKind).error_description).toMatch(/^kind: /);

    const options = json<CreationOptions & { authenticatorSelection: Record<string, unknown>; user: { name: string } }>(
      await ua.postJson('/account/webauthn/registration/options', { kind: 'passkey' }, { 'x-csrf-token': csrf }),
    );
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'preferred' });
    expect(options.user.name).toBe(user.email);
    const keyOptions = json<{ authenticatorSelection: Record<string, unknown> }>(
      await ua.postJson('/account/webauthn/registration/options', { kind: 'security_key' }, { 'x-csrf-token': csrf }),
    );
    expect(keyOptions.authenticatorSelection).toMatchObject({ residentKey: 'discouraged' });

    // A response for a challenge this server never issued, then one replayed.
    const device = new SoftwareAuthenticator(server.issuer);
    const forged = device.create({ ...options, challenge: Buffer.from('not ours').toString('base64url') });
    const refused = await ua.postJson(
      '/account/webauthn/registration/verify',
      { response: forged.response },
      { 'x-csrf-token': csrf },
    );
    expect(refused.status).toBe(400);
    expect(json<ErrorBody>(refused).error).toBe('challenge_expired');
    const good = device.create(options);
    expect(
      (
        await ua.postJson(
          '/account/webauthn/registration/verify',
          { response: good.response },
          { 'x-csrf-token': csrf },
        )
      ).status,
    ).toBe(200);
    const again = await ua.postJson(
      '/account/webauthn/registration/verify',
      { response: good.response },
      { 'x-csrf-token': csrf },
    );
    expect(again.status).toBe(400);
    expect(await storage().credentials.listWebAuthn(user.id)).toHaveLength(1);

    // Signed in as someone else: the first user's pending challenge is not theirs.
    const other = await server.buildUser();
    const otherUa = new UserAgent(server.issuer);
    const otherCsrf = accountCsrf(await openAccountPage(otherUa, other.email, other.password));
    const pending = json<CreationOptions>(
      await ua.postJson('/account/webauthn/registration/options', { kind: 'passkey' }, { 'x-csrf-token': csrf }),
    );
    const crossed = await otherUa.postJson(
      '/account/webauthn/registration/verify',
      { response: device.create(pending).response },
      { 'x-csrf-token': otherCsrf },
    );
    expect(crossed.status).toBe(400);
    expect(await storage().credentials.listWebAuthn(other.id)).toHaveLength(0);
  });

  it('a challenge expires after webauthn.challengeTtlSeconds', async () => {
    let now = Date.now();
    const kv = createMemoryStore(() => now);
    const webauthn = createWebAuthnService({
      credentials: storage().credentials,
      kv,
      audit: createAuditLog(storage().audit),
      config: server.gatehouse.config,
      transaction: storage().transaction,
    });
    const user = await server.buildUser();
    const device = new SoftwareAuthenticator(server.issuer);
    const options = await webauthn.registrationOptions('account:test', user, 'passkey');
    expect(options.timeout).toBe(server.gatehouse.config.webauthn.challengeTtlSeconds * 1000);
    now += (server.gatehouse.config.webauthn.challengeTtlSeconds + 1) * 1000;
    const late = await webauthn.verifyRegistration('account:test', user.id, device.create(options).response, '', {});
    expect(late).toEqual({ ok: false, reason: 'challenge' });
    expect(await storage().credentials.listWebAuthn(user.id)).toHaveLength(0);

    const fresh = await webauthn.registrationOptions('account:test', user, 'passkey');
    const { response, credential } = device.create(fresh);
    expect((await webauthn.verifyRegistration('account:test', user.id, response, '', {})).ok).toBe(true);
    const signIn = await webauthn.passkeyOptions('interaction:test');
    now += (server.gatehouse.config.webauthn.challengeTtlSeconds + 1) * 1000;
    const expired = await webauthn.verifyPasskey(
      'interaction:test',
      device.get(signIn, credential),
      async () => true,
      {},
    );
    expect(expired).toEqual({ ok: false, reason: 'challenge' });
    await kv.close();
  });

  it('asks for a fresh sign-in before registering when the sign-in is old', async () => {
    const clock = testClock();
    const old = await startTestServer(
      backend,
      { mfa: { policy: 'optional', reauthenticationSeconds: 1, totpIssuer: 'Gatehouse' } },
      { clock: clock.now },
    );
    try {
      const user = await old.buildUser();
      const ua = new UserAgent(old.issuer);
      const page = await openAccountPage(ua, user.email, user.password);
      clock.advance(2100);
      const refused = await ua.postJson(
        '/account/webauthn/registration/options',
        { kind: 'passkey' },
        { 'x-csrf-token': accountCsrf(page) },
      );
      expect(refused.status).toBe(403);
      expect(json<ErrorBody>(refused).error).toBe('reauthentication_required');
      expect(refused.location).toBeNull();
      const rename = await ua.post('/account/webauthn/00000000-0000-4000-8000-000000000000/rename', {
        csrf: csrfToken(page.html),
        label: 'x',
      });
      expect(rename.status).toBe(303);
      expect(rename.location).toContain('/account/login?reauth=1');
    } finally {
      await old.close();
    }
  }, 120_000);

  it('serves the browser library and our script from /assets', async () => {
    const ua = new UserAgent(server.issuer);
    const lib = await ua.get('/assets/simplewebauthn-browser.js');
    expect(lib.status).toBe(200);
    expect(lib.headers.get('content-type')).toContain('text/javascript');
    expect(lib.html).toContain('SimpleWebAuthnBrowser');
    const ours = await ua.get('/assets/webauthn.js');
    expect(ours.status).toBe(200);
    expect(ours.html).toContain('data-webauthn');
  });
});
