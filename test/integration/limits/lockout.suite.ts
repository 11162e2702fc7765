import { setTimeout as sleep } from 'node:timers/promises';
import { HTTP_BACKENDS, STORE_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { UserAgent, alertText, buildRp, openAuthorization, submitLogin, type TestRp } from '../../helpers/sessions.js';
import { adminCaller, apiAs, type ApiCall } from '../../helpers/admin-api.js';
import type { TestUser } from '../../helpers/factories.js';
import { buildTotpUser, passwordStep, stepKind, submitCode, totpCode, wrongTotpCode } from '../mfa/support.js';
import { counterValue } from '../../../src/observability/metrics.js';
import { eventsOf, from, randomIp } from './support.js';
import { accountCsrf, openAccountPage } from '../../helpers/account-pages.js';

interface LockoutView {
  failures: number;
  locked_for_seconds: number | null;
}
interface UserView {
  lockout: { password: LockoutView; second_factor: LockoutView };
}

describe.each(STORE_BACKENDS)(
  'lockout: account-wide waits, trusted addresses, admin unlock, second factor apart (%s)',
  (backend) => {
    let rp: TestRp;
    let call: ApiCall;
    const server = useTestServer(backend, {
      http: { trustedProxyHops: 1 },
      lockout: {
        freeFailures: 2,
        accountFreeFailures: 3,
        baseDelaySeconds: 60,
        maxDelaySeconds: 900,
        trustedIpDays: 30,
      },
    });
    beforeAll(async () => {
      rp = await buildRp(server);
      call = apiAs(server, (await adminCaller(server)).token);
    });

    const attempt = async (user: Pick<TestUser, 'email'>, password: string, ip: string) => {
      const ua = new UserAgent(server.issuer);
      const { page } = await openAuthorization(ua, rp, server.issuer);
      return submitLogin(ua, page, user.email, password, from(ip));
    };
    /** One failure from each of three new addresses: under the per-address limit, at the account's. */
    const spreadFailures = async (user: Pick<TestUser, 'email'>) => {
      for (let n = 0; n < 3; n++) expect((await attempt(user, 'wrong password', randomIp())).status).toBe(401);
    };

    it('holds back every address after failures spread over many, but not the address the owner signs in from', async () => {
      const user = await server.buildUser();
      const home = randomIp();
      expect((await attempt(user, user.password, home)).status).toBe(303);
      await spreadFailures(user);

      const stranger = await attempt(user, user.password, randomIp());
      expect(stranger.status).toBe(429);
      expect(Number(stranger.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(stranger.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(alertText(stranger.html)).toMatch(/^Too many failed attempts\. Please try again in \d+ seconds?\.$/);
      expect((await attempt(user, user.password, home)).status).toBe(303);

      const lockouts = (await eventsOf(server, 'signin.locked_out')).filter((e) => e.subjectId === user.id);
      expect(lockouts.map((e) => e.details)).toEqual([{ factor: 'password', scope: 'account', waitSeconds: 60 }]);
    });

    it('backs off an unknown email exactly like a known one', async () => {
      const unknown = { email: `nobody-${randomIp()}@example.test` };
      await spreadFailures(unknown);
      expect((await attempt(unknown, 'any password', randomIp())).status).toBe(429);
    });

    it('shows the lockout to admins and lifts it, for every address, with an audit event', async () => {
      const user = await server.buildUser();
      await spreadFailures(user);
      const blocked = randomIp();
      expect((await attempt(user, 'wrong again', blocked)).status).toBe(429);
      const before = await call<UserView>('GET', `/users/${user.id}`);
      expect(before.status).toBe(200);
      expect(before.body.lockout.password.failures).toBe(3);
      expect(before.body.lockout.password.locked_for_seconds).toBeGreaterThan(0);
      expect(before.body.lockout.second_factor).toEqual({ failures: 0, locked_for_seconds: null });

      // An address waiting on its own count too: two failures from it, after the unlock below.
      const unlocked = await call<UserView>('POST', `/users/${user.id}/unlock`);
      expect(unlocked.status).toBe(200);
      expect(unlocked.body.lockout.password).toEqual({ failures: 0, locked_for_seconds: null });
      expect((await attempt(user, user.password, randomIp())).status).toBe(303);

      const single = randomIp();
      for (let n = 0; n < 2; n++) expect((await attempt(user, 'wrong password', single)).status).toBe(401);
      expect((await attempt(user, user.password, single)).status).toBe(429);
      expect((await call('POST', `/users/${user.id}/unlock`)).status).toBe(200);
      expect((await attempt(user, user.password, single)).status).toBe(303);

      const cleared = await eventsOf(server, 'lockout.cleared');
      expect(cleared.filter((e) => e.subjectId === user.id)).toHaveLength(2);
    });

    it('counts wrong current passwords on /account in the sign-in lockout: during the wait even the right one is refused unchecked, until it ends', async () => {
      const user = await server.buildUser();
      const ip = randomIp();
      const ua = new UserAgent(server.issuer, from(ip));
      const page = await openAccountPage(ua, user.email, user.password);
      const change = (current: string, next: string) =>
        ua.post('/account/password', { csrf: accountCsrf(page), current_password: current, new_password: next });

      // Before any wait, the right current password changes it.
      const second = 'a second long password';
      expect((await change(user.password, second)).status).toBe(303);

      for (let n = 0; n < 2; n++) {
        const wrong = await change(`not it ${n}`, 'a third long password');
        expect(wrong.status).toBe(400);
        expect(alertText(wrong.html)).toBe('Your current password is not correct.');
      }
      const waiting = await change(second, 'a third long password');
      expect(waiting.status).toBe(429);
      expect(Number(waiting.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(waiting.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(alertText(waiting.html)).toMatch(
        /^Too many failed attempts\. Please try again in \d+ (seconds?|minute)\.$/,
      );
      // Refused before any password check: recorded as such, and the password is unchanged.
      const failures = (await eventsOf(server, 'password.change_failed')).filter((e) => e.subjectId === user.id);
      expect(failures.map((e) => e.details.reason)).toEqual(['locked_out', 'wrong_password', 'wrong_password']);
      expect(
        (await eventsOf(server, 'signin.locked_out')).filter((e) => e.subjectId === user.id).map((e) => e.details),
      ).toEqual([{ factor: 'password', scope: 'address', waitSeconds: 60 }]);
      // The same lockout as the sign-in page's, from this address.
      expect((await attempt(user, second, ip)).status).toBe(429);

      // The wait ends (here by an admin's unlock, with no clock to move): the change goes through.
      expect((await call('POST', `/users/${user.id}/unlock`)).status).toBe(200);
      expect((await change(second, 'a third long password')).status).toBe(303);
    });

    it('refuses an unlock of a user that does not exist', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-user-id']) {
        const answer = await call('POST', `/users/${id}/unlock`);
        expect(answer.status).toBe(404);
        expect(answer.body).toMatchObject({ error: expect.any(String) });
      }
    });

    it('counts second-factor failures apart from password failures', async () => {
      const user = await buildTotpUser(server);
      const lockoutsBefore = await counterValue(server.gatehouse.metrics.lockouts, { factor: 'second_factor' });
      const ua = new UserAgent(server.issuer);
      const { page } = await passwordStep(ua, server, rp, user);
      expect(stepKind(page)).toBe('mfa');
      let current = page;
      for (let n = 0; n < 2; n++) {
        current = await submitCode(ua, current, 'totp', await wrongTotpCode(user.secret));
        expect(current.status).toBe(401);
      }
      const locked = await submitCode(ua, current, 'totp', await totpCode(user.secret));
      expect(locked.status).toBe(429);
      expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await counterValue(server.gatehouse.metrics.lockouts, { factor: 'second_factor' })).toBe(
        lockoutsBefore + 1,
      );

      // The password still works from this address: the code failures reached freeFailures, but
      // only in the second-factor count.
      const again = new UserAgent(server.issuer);
      expect(stepKind((await passwordStep(again, server, rp, user)).page)).toBe('mfa');
      const lockouts = (await eventsOf(server, 'signin.locked_out')).filter((e) => e.subjectId === user.id);
      expect(lockouts.map((e) => e.details)).toEqual([{ factor: 'second_factor', scope: 'address', waitSeconds: 60 }]);
    });
  },
);

describe.each(HTTP_BACKENDS)('lockout back-off (%s)', (backend) => {
  let rp: TestRp;
  const server = useTestServer(backend, {
    http: { trustedProxyHops: 1 },
    // One-second steps so the test can wait them out.
    lockout: { freeFailures: 2, accountFreeFailures: 100, baseDelaySeconds: 1, maxDelaySeconds: 8 },
  });
  beforeAll(async () => {
    rp = await buildRp(server);
  });

  it('doubles the wait with each failure after the free ones, refuses attempts during it unchecked, and starts over after a success', async () => {
    const user = await server.buildUser();
    const ip = randomIp();
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    const login = (password: string) => submitLogin(ua, page, user.email, password, from(ip));

    expect((await login('wrong password')).status).toBe(401);
    expect((await login('wrong password')).status).toBe(401);
    const first = await login(user.password);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('1');

    await sleep(1100);
    expect((await login('wrong password')).status).toBe(401);
    const second = await login(user.password);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('2');

    await sleep(2100);
    expect((await login(user.password)).status).toBe(303);
    // The success forgot the failures: two more before a wait, which is one second again.
    const fresh = new UserAgent(server.issuer);
    const next = (await openAuthorization(fresh, rp, server.issuer)).page;
    expect((await submitLogin(fresh, next, user.email, 'wrong password', from(ip))).status).toBe(401);
    expect((await submitLogin(fresh, next, user.email, 'wrong password', from(ip))).status).toBe(401);
    const restarted = await submitLogin(fresh, next, user.email, user.password, from(ip));
    expect(restarted.status).toBe(429);
    expect(restarted.headers.get('retry-after')).toBe('1');

    const waits = (await eventsOf(server, 'signin.locked_out'))
      .filter((e) => e.subjectId === user.id)
      .map((e) => e.details.waitSeconds);
    expect(waits.sort()).toEqual([1, 1, 2]);
    // Sleeps 3.2 s of real time: the waits expire in Redis (or the in-process limiter) on their own clock.
  }, 30_000);
});
