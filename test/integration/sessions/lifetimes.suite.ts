import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { buildRp, openAuthorization, pageKind, type TestRp } from '../../helpers/sessions.js';
import type { UserAgent } from '../../helpers/user-agent.js';
import { FIREFOX_LINUX, browser, signInRemembering } from './support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hasExpiry = (cookie: string) => /;\s*(expires|max-age)=/i.test(cookie);
const expiryOf = (cookie: string) => new Date(/;\s*expires=([^;]+)/i.exec(cookie)?.[1] ?? '').getTime();

/** "Keep me signed in" and the configured lifetimes (config `sessions`, docs/sessions.md). */
describe.each(HTTP_BACKENDS)('session lifetimes (%s)', (backend) => {
  let rp: TestRp;
  const server = useTestServer(backend, { sessions: { absoluteLifetimeSeconds: 86_400, idleTimeoutSeconds: 3_600 } });
  beforeAll(async () => {
    rp = await buildRp(server, { firstParty: true });
  });

  it('offers "Keep me signed in", unchecked by default', async () => {
    const { page } = await openAuthorization(browser(server, FIREFOX_LINUX), rp, server.issuer);
    expect(page.html).toMatch(/<input id="remember" name="remember" type="checkbox" value="1" data-remember>/);
  });

  it('unchecked: a browser-session cookie, without Expires or Max-Age', async () => {
    const user = await server.buildUser();
    const { sessionCookies } = await signInRemembering(browser(server, FIREFOX_LINUX), rp, user, false);
    expect(sessionCookies.length).toBeGreaterThan(0);
    for (const cookie of sessionCookies) expect(hasExpiry(cookie)).toBe(false);
    const [session] = await server.gatehouse.storage.storage.sessions.listSessions(user.id);
    expect(session?.transient).toBe(true);
  });

  it('checked: a persistent cookie that ends with the absolute lifetime', async () => {
    const user = await server.buildUser();
    const before = Date.now();
    const { sessionCookies } = await signInRemembering(browser(server, FIREFOX_LINUX), rp, user, true);
    const last = sessionCookies.at(-1) ?? '';
    expect(hasExpiry(last)).toBe(true);
    expect(/httponly/i.test(last)).toBe(true);
    expect(/samesite=lax/i.test(last)).toBe(true);
    // Expires is the sign-in plus sessions.absoluteLifetimeSeconds (one day here), to the second.
    expect(Math.abs(expiryOf(last) - (before + 86_400_000))).toBeLessThan(5_000);
  });

  it("takes only the checkbox's own value as a yes", async () => {
    const user = await server.buildUser();
    const { sessionCookies } = await signInRemembering(browser(server, FIREFOX_LINUX), rp, user, 'true; expires=never');
    expect(sessionCookies.length).toBeGreaterThan(0);
    expect(sessionCookies.every((c) => !hasExpiry(c))).toBe(true);
  });
});

describe.each(HTTP_BACKENDS)('idle timeout (%s)', (backend) => {
  let rp: TestRp;
  const server = useTestServer(backend, { sessions: { absoluteLifetimeSeconds: 3600, idleTimeoutSeconds: 4 } });
  beforeAll(async () => {
    rp = await buildRp(server, { firstParty: true });
  });

  const signedIn = async (ua: UserAgent) => pageKind((await openAuthorization(ua, rp, server.issuer)).page) !== 'login';

  it('ends a session left unused, on the server, even with a persistent cookie', async () => {
    const user = await server.buildUser();
    const ua = browser(server, FIREFOX_LINUX);
    const { sessionCookies } = await signInRemembering(ua, rp, user, true);
    // The cookie itself would last an hour: the server ends the session.
    expect(expiryOf(sessionCookies.at(-1) ?? '')).toBeGreaterThan(Date.now() + 3_000_000);
    expect(await signedIn(ua)).toBe(true);
    await sleep(5_000);
    expect(await server.gatehouse.storage.storage.sessions.listSessions(user.id)).toEqual([]);
    expect(await signedIn(ua)).toBe(false);
    // Sleeps 5 s of real time: the idle timeout is kept by the database's and oidc-provider's clocks.
  }, 30_000);

  it('keeps a session in use alive past the idle timeout, and shows when it was last used', async () => {
    const user = await server.buildUser();
    const ua = browser(server, FIREFOX_LINUX);
    await signInRemembering(ua, rp, user, false);
    const [first] = await server.gatehouse.storage.storage.sessions.listSessions(user.id);
    await sleep(2_500);
    expect(await signedIn(ua)).toBe(true);
    await sleep(2_500);
    // Five seconds after the sign-in, one past the idle timeout: the use in between counted.
    expect(await signedIn(ua)).toBe(true);
    const [later] = await server.gatehouse.storage.storage.sessions.listSessions(user.id);
    expect(later!.lastSeenAt!.getTime()).toBeGreaterThan(first!.lastSeenAt!.getTime());
    // Sleeps 5 s of real time, as above.
  }, 30_000);
});
