import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { accountCsrf, openAccountPage } from '../../helpers/account-pages.js';
import { buildRp, logOutAtRp, openAuthorization, pageKind, type TestRp } from '../../helpers/sessions.js';
import { OFFLINE, oauthFailure, refreshTokenOf } from '../../helpers/tokens.js';
import { oidc } from '../../helpers/rp.js';
import type { UserAgent } from '../../helpers/user-agent.js';
import { FIREFOX_LINUX, SAFARI_IPHONE, browser, listedSessions, signInRemembering } from './support.js';

/** /account lists where the user is signed in and lets them end sessions (views/account/_sessions.ejs). */
describe.each(HTTP_BACKENDS)('sessions on the account page (%s)', (backend) => {
  let rp: TestRp;
  // A domain issuer: on an IP address /account offers no passkeys, whose form this checks too.
  const server = useTestServer(backend, {}, { issuerHost: 'localhost' });
  beforeAll(async () => {
    // First party: no consent page, so offline_access (prompt=consent) is granted at once.
    rp = await buildRp(server, {
      firstParty: true,
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access',
    });
  });

  /** Whether the browser still has single sign-on at the RP: no login page on the way. */
  const hasSso = async (ua: UserAgent) => pageKind((await openAuthorization(ua, rp, server.issuer)).page) !== 'login';

  /** A user signed in on a laptop (which opens /account) and on a phone (signed in to the RP, with a refresh token). */
  async function twoBrowsers() {
    const user = await server.buildUser();
    const laptop = browser(server, FIREFOX_LINUX);
    const phone = browser(server, SAFARI_IPHONE);
    const onPhone = await signInRemembering(phone, rp, user, true, OFFLINE);
    await signInRemembering(laptop, rp, user, false);
    const page = await openAccountPage(laptop, user.email, user.password);
    return { user, laptop, phone, page, onPhone };
  }

  it('lists both browsers with device, IP, sign-in and last activity, this one marked', async () => {
    const { page } = await twoBrowsers();
    const sessions = listedSessions(page);
    expect(sessions).toHaveLength(2);
    const [here, phone] = sessions;
    expect(here).toMatchObject({ current: true, device: 'Firefox 128 on Linux', ip: '127.0.0.1' });
    expect(phone).toMatchObject({ current: false, ip: '127.0.0.1' });
    expect(phone!.device).toMatch(/^Safari 17 on iOS/);
    for (const s of sessions) expect(s.lastSeen).toMatch(/\d{4}/);
    expect(page.html).toContain('data-this-device');
  });

  it('names the applications of a session by their names (the id when the client is gone)', async () => {
    const user = await server.buildUser();
    const named = await buildRp(server, { firstParty: true, name: 'Payroll Portal' });
    const laptop = browser(server, FIREFOX_LINUX);
    await signInRemembering(laptop, named, user, false);
    const page = await openAccountPage(laptop, user.email, user.password);
    const applications = (html: string) =>
      [...html.matchAll(/data-client-id="([^"]+)">([^<]*)</g)].map((m) => ({ id: m[1], name: m[2] }));
    expect(applications(page.html)).toEqual(
      expect.arrayContaining([
        { id: named.client.clientId, name: 'Payroll Portal' },
        { id: 'gatehouse-account', name: expect.stringMatching(/account$/) },
      ]),
    );
    expect(page.html).not.toMatch(/<dd data-session-applications>[^<]*gatehouse-account/);

    await server.gatehouse.storage.storage.clients.delete(named.client.clientId);
    const after = await laptop.get('/account');
    expect(applications(after.html)).toEqual(
      expect.arrayContaining([{ id: named.client.clientId, name: named.client.clientId }]),
    );
  });

  it('ends one session: that browser loses single sign-on, this one keeps it', async () => {
    const { laptop, phone, page } = await twoBrowsers();
    const other = listedSessions(page).find((s) => !s.current)!;
    const ended = await laptop.post(`/account/sessions/${other.uid}/end`, { csrf: accountCsrf(page) });
    expect(ended.status).toBe(303);
    expect(ended.location).toContain('done=session-ended');
    expect(await hasSso(phone)).toBe(false);
    expect(await hasSso(laptop)).toBe(true);
    const after = await laptop.get(ended.location ?? '');
    expect(listedSessions(after).map((s) => s.current)).toEqual([true]);
    expect(after.html).toContain('That device is signed out.');
  });

  it('ends all other sessions and keeps this one', async () => {
    const { user, laptop, phone, page } = await twoBrowsers();
    const third = browser(server, SAFARI_IPHONE);
    await signInRemembering(third, rp, user, true);
    const done = await laptop.post('/account/sessions/others/end', { csrf: accountCsrf(page) });
    expect(done.status).toBe(303);
    expect(await hasSso(phone)).toBe(false);
    expect(await hasSso(third)).toBe(false);
    expect(await hasSso(laptop)).toBe(true);
    const after = await laptop.get('/account');
    expect(after.status).toBe(200);
    expect(listedSessions(after)).toEqual([expect.objectContaining({ current: true })]);
    const events = await server.gatehouse.storage.storage.audit.forSubject(user.id);
    expect(events.find((e) => e.action === 'session.ended')?.details).toMatchObject({ reason: 'others-ended-by-user' });
  });

  it('signs out everywhere: every browser, and the refresh tokens die', async () => {
    const { laptop, phone, page, onPhone } = await twoBrowsers();
    const refreshToken = refreshTokenOf(onPhone.tokens);
    const done = await laptop.post('/account/sessions/everywhere/end', { csrf: accountCsrf(page) });
    expect(done.status).toBe(200);
    expect(done.html).toContain('data-signed-out-everywhere');
    expect(await oauthFailure(oidc.refreshTokenGrant(rp.config, refreshToken))).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
    expect(await hasSso(phone)).toBe(false);
    expect(await hasSso(laptop)).toBe(false);
    expect((await laptop.get('/account')).status).toBe(302);
  });

  /**
   * The phone's refresh at the RP (openid-client): the rotated token it got, or null when the
   * token was refused as invalid_grant. Rotation makes the old one spent: use the new one next.
   */
  const refreshed = async (refreshToken: string): Promise<string | null> =>
    oidc.refreshTokenGrant(rp.config, refreshToken).then(
      (tokens) => tokens.refresh_token ?? refreshToken,
      async (error: unknown) => {
        expect(await oauthFailure(Promise.reject(error))).toEqual({ status: 400, error: 'invalid_grant' });
        return null;
      },
    );

  it('offers "sign out my other devices", ticked, with the password and every factor change', async () => {
    const { page } = await twoBrowsers();
    const boxes = [
      ...page.html.matchAll(/<form method="post" action="([^"]+)"[^>]*>((?:(?!<\/form>)[\s\S])*)<\/form>/g),
    ]
      .filter((m) => /name="sign_out_others" type="checkbox" value="1" checked/.test(m[2] ?? ''))
      .map((m) => m[1]);
    expect(boxes).toEqual(expect.arrayContaining(['/account/recovery-codes', '/account/password']));
    expect(page.html).toMatch(/data-webauthn="register"[\s\S]*name="sign_out_others"[^>]*checked data-sign-out-others/);
  });

  it('changes the password and, ticked, signs out the other devices: their sessions end and their refresh tokens stop working; this one stays', async () => {
    const { user, laptop, phone, page, onPhone } = await twoBrowsers();
    const refreshToken = refreshTokenOf(onPhone.tokens);
    const done = await laptop.post('/account/password', {
      csrf: accountCsrf(page),
      current_password: user.password,
      new_password: 'a fresh long password',
      sign_out_others: '1',
    });
    expect(done.status).toBe(303);
    expect(await refreshed(refreshToken)).toBeNull();
    expect(await hasSso(phone)).toBe(false);
    expect(await hasSso(laptop)).toBe(true);
    const after = await laptop.get('/account');
    expect(after.status).toBe(200);
    expect(listedSessions(after)).toEqual([expect.objectContaining({ current: true })]);
    const events = await server.gatehouse.storage.storage.audit.forSubject(user.id);
    expect(events.find((e) => e.action === 'session.ended')?.details).toMatchObject({ reason: 'password-changed' });
  });

  it('changes the password and, unticked, leaves the other devices signed in', async () => {
    const { user, laptop, phone, page, onPhone } = await twoBrowsers();
    const done = await laptop.post('/account/password', {
      csrf: accountCsrf(page),
      current_password: user.password,
      new_password: 'a fresh long password',
    });
    expect(done.status).toBe(303);
    expect(await refreshed(refreshTokenOf(onPhone.tokens))).toEqual(expect.any(String));
    expect(await hasSso(phone)).toBe(true);
    expect(listedSessions(await laptop.get('/account'))).toHaveLength(2);
  });

  it('signs out the other devices with a changed factor (new recovery codes), ticked; keeps them unticked', async () => {
    const { laptop, page, onPhone } = await twoBrowsers();
    const kept = await laptop.post('/account/recovery-codes', { csrf: accountCsrf(page) });
    expect(kept.status).toBe(200);
    const rotated = await refreshed(refreshTokenOf(onPhone.tokens));
    expect(rotated).toEqual(expect.any(String));
    const ended = await laptop.post('/account/recovery-codes', { csrf: accountCsrf(page), sign_out_others: '1' });
    expect(ended.status).toBe(200);
    expect(ended.html).toContain('data-recovery-code');
    expect(await refreshed(rotated!)).toBeNull();
    expect(await hasSso(laptop)).toBe(true);
  });

  it('signs out nothing when the password change is refused, ticked or not', async () => {
    const { laptop, phone, page, onPhone } = await twoBrowsers();
    const wrong = await laptop.post('/account/password', {
      csrf: accountCsrf(page),
      current_password: 'not it at all',
      new_password: 'a fresh long password',
      sign_out_others: '1',
    });
    expect(wrong.status).toBe(400);
    expect(await refreshed(refreshTokenOf(onPhone.tokens))).toEqual(expect.any(String));
    expect(await hasSso(phone)).toBe(true);
    const forged = await laptop.post('/account/password', {
      csrf: 'forged',
      current_password: 'x',
      new_password: 'a fresh long password',
      sign_out_others: '1',
    });
    expect(forged.status).toBe(403);
    expect(await hasSso(phone)).toBe(true);
  });

  it('keeps offline access past RP-initiated logout (by design), and sign out everywhere ends it', async () => {
    const { laptop, phone, page, onPhone } = await twoBrowsers();
    expect((await logOutAtRp(phone, rp.config, onPhone.tokens.id_token)).status).toBe(303);
    expect(await hasSso(phone)).toBe(false);
    // offline_access is access while the user is not there: the session's end leaves it.
    const survived = refreshTokenOf(await oidc.refreshTokenGrant(rp.config, refreshTokenOf(onPhone.tokens)));
    expect(listedSessions(await laptop.get('/account'))).toHaveLength(1);

    const done = await laptop.post('/account/sessions/everywhere/end', { csrf: accountCsrf(page) });
    expect(done.status).toBe(200);
    expect(await oauthFailure(oidc.refreshTokenGrant(rp.config, survived))).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
  });

  it("refuses another user's session, a malformed id, and a form without the CSRF token", async () => {
    const { page, laptop } = await twoBrowsers();
    const stranger = await twoBrowsers();
    const theirs = listedSessions(stranger.page).find((s) => !s.current)!;

    const foreign = await laptop.post(`/account/sessions/${theirs.uid}/end`, { csrf: accountCsrf(page) });
    expect(foreign.status).toBe(404);
    expect(foreign.html).not.toContain('    at ');
    expect(await hasSso(stranger.phone)).toBe(true);

    expect((await laptop.post('/account/sessions/not%20a%20session!/end', { csrf: accountCsrf(page) })).status).toBe(
      400,
    );
    const mine = listedSessions(page).find((s) => !s.current)!;
    expect((await laptop.post(`/account/sessions/${mine.uid}/end`, { csrf: 'forged' })).status).toBe(403);
    expect((await laptop.post(`/account/sessions/${mine.uid}/end`, {})).status).toBe(403);
    expect(
      (
        await laptop.post(
          '/account/sessions/everywhere/end',
          { csrf: accountCsrf(page) },
          { origin: 'https://evil.example' },
        )
      ).status,
    ).toBe(403);
    expect(listedSessions(await laptop.get('/account'))).toHaveLength(2);
  });
});
