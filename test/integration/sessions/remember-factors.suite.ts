import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { actionOf, buildRp, follow, openAuthorization, type TestRp } from '../../helpers/sessions.js';
import { UserAgent, csrfToken } from '../../helpers/user-agent.js';
import { buildTotpUser, finishAtRp as finishTotp, stepKind, submitCode, totpCode } from '../mfa/support.js';
import {
  SoftwareAuthenticator,
  enrolKey,
  finishAtRp as finishPasskey,
  openLogin,
  passkeyOptions,
} from '../webauthn/support.js';

/** "Keep me signed in" through the second step and with a passkey (docs/sessions.md). */
describe.each(HTTP_BACKENDS)('keep me signed in with other factors (%s)', (backend) => {
  let rp: TestRp;
  const server = useTestServer(backend);
  beforeAll(async () => {
    rp = await buildRp(server, { firstParty: true });
  });

  /** Whether the newest session of the user is a browser session ("Keep me signed in" unticked). */
  const newestIsTransient = async (userId: string) =>
    (await server.gatehouse.storage.storage.sessions.listSessions(userId))[0]?.transient;

  it.each([
    [false, true],
    [true, false],
  ])('a TOTP user who ticked %s keeps that choice after the code (transient: %s)', async (remember, transient) => {
    const user = await buildTotpUser(server);
    const ua = new UserAgent(server.issuer);
    const { request, page } = await openAuthorization(ua, rp, server.issuer);
    const fields: Record<string, string> = { csrf: csrfToken(page.html), email: user.email, password: user.password };
    if (remember) fields.remember = '1';
    const done = await ua.post(actionOf(page, '/login'), fields);
    const second = await follow(ua, done.location ?? '', server.issuer);
    expect(stepKind(second)).toBe('mfa');
    await finishTotp(ua, server, rp, await submitCode(ua, second, 'totp', await totpCode(user.secret)), request);
    expect(await newestIsTransient(user.id)).toBe(transient);
  });

  it('a passkey sign-in follows the checkbox the page sends, and the configured default without it', async () => {
    const user = await server.buildUser();
    const device = new SoftwareAuthenticator(server.issuer);
    const credential = await enrolKey(new UserAgent(server.issuer), user, device);
    const passkeySignIn = async (body: Record<string, unknown>) => {
      const ua = new UserAgent(server.issuer);
      const login = await openLogin(ua, rp, server);
      const response = device.get(await passkeyOptions(ua, login), credential);
      const verified = await ua.postJson(
        `/interaction/${login.uid}/webauthn/passkey/verify`,
        { response, ...body },
        { 'x-csrf-token': login.csrf },
      );
      await finishPasskey(ua, server, rp, login.request, verified);
      return newestIsTransient(user.id);
    };
    expect(await passkeySignIn({ remember: true })).toBe(false);
    expect(await passkeySignIn({ remember: false })).toBe(true);
    // rememberByDefault is false; a malformed value is no choice at all.
    expect(await passkeySignIn({})).toBe(true);
    expect(await passkeySignIn({ remember: 'yes' })).toBe(true);
  });
});
