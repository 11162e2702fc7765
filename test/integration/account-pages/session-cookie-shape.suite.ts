import Keygrip from 'keygrip';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { UserAgent } from '../../helpers/user-agent.js';
import { openAccountPage } from '../../helpers/account-pages.js';

const COOKIE = 'gh_account';

/**
 * The /account session cookie is signed, and read back through a schema: a signed cookie of
 * another shape (one an older release wrote, say) is no session, not an error.
 */
describe.each(HTTP_BACKENDS)('the account page session cookie (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  /** Signs `value` as the server's cookies would (koa's `cookies` with the provider's cookie keys). */
  function setSigned(ua: UserAgent, value: unknown): void {
    const encoded = Buffer.from(JSON.stringify(value)).toString('base64url');
    ua.cookies.set(COOKIE, encoded);
    ua.cookies.set(`${COOKIE}.sig`, new Keygrip(server.gatehouse.host.cookieKeys).sign(`${COOKIE}=${encoded}`));
  }

  async function signedIn(): Promise<{ ua: UserAgent; session: Record<string, unknown> }> {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    await openAccountPage(ua, user.email, user.password);
    const raw = ua.cookies.get(COOKIE);
    if (!raw) throw new Error('no session cookie after signing in');
    return { ua, session: JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Record<string, unknown> };
  }

  it('accepts its own session re-signed by the test (so the refusals below are about shape, not signature)', async () => {
    const { ua, session } = await signedIn();
    setSigned(ua, session);
    const page = await ua.get('/account');
    expect(page.status).toBe(200);
    expect(page.html).toContain('data-account-email');
  });

  it.each([
    ['without the provider session it names', ({ sid: _sid, ...rest }: Record<string, unknown>) => rest],
    ['with an expiry that is not a number', (s: Record<string, unknown>) => ({ ...s, exp: String(s.exp) })],
    ['that is not an object', () => ['not', 'a', 'session']],
  ])('treats a signed session cookie %s as no session: sign in again, no error', async (_what, reshape) => {
    const { ua, session } = await signedIn();
    setSigned(ua, reshape(session));
    const page = await ua.get('/account');
    expect(page.status).toBe(302);
    expect(page.location).toMatch(/\/account\/login/);
  });
});
