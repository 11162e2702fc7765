import * as oidc from 'openid-client';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import {
  UserAgent,
  buildRp,
  errorCode,
  openAuthorization,
  submitLogin,
  textOf,
  type TestRp,
} from '../../helpers/sessions.js';
import { discoverRp } from '../../helpers/rp.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { counterValue } from '../../../src/observability/metrics.js';
import { eventsOf, from, randomIp, refusedAfter, rotating, signInStatuses } from './support.js';
import { json, openLogin } from '../webauthn/support.js';
import { accountCsrf, openAccountPage } from '../../helpers/account-pages.js';

const PER_IP = 3;
const PER_ACCOUNT = 4;
const PER_CLIENT = 2;
const PASSKEY_PER_IP = 2;
const ATTEMPTS_PER_IP = 12;

describe.each(HTTP_BACKENDS)('rate limits (%s)', (backend) => {
  let rp: TestRp;
  const server = useTestServer(backend, {
    http: { trustedProxyHops: 1 },
    rateLimits: {
      signInIp: { points: PER_IP, durationSeconds: 600 },
      signInIpAttempts: { points: ATTEMPTS_PER_IP, durationSeconds: 600 },
      signInAccount: { points: PER_ACCOUNT, durationSeconds: 600 },
      tokenClient: { points: PER_CLIENT, durationSeconds: 600 },
      passkeyIp: { points: PASSKEY_PER_IP, durationSeconds: 600 },
    },
  });
  beforeAll(async () => {
    rp = await buildRp(server);
  });

  async function loginPage(ua = new UserAgent(server.issuer)) {
    return { ua, page: (await openAuthorization(ua, rp, server.issuer)).page };
  }

  it(`answers 429 with Retry-After and a page after ${PER_IP} sign-in attempts from one address, and spares other addresses`, async () => {
    const { ua, page } = await loginPage();
    const ip = randomIp();
    for (let attempt = 0; attempt < PER_IP; attempt++) {
      expect((await submitLogin(ua, page, uniqueEmail(), 'wrong password', from(ip))).status).toBe(401);
    }
    const before = await counterValue(server.gatehouse.metrics.rateLimitHits, { policy: 'signInIp' });
    const user = await server.buildUser();
    const limited = await submitLogin(ua, page, user.email, user.password, from(ip));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(500);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(600);
    expect(limited.headers.get('content-type')).toMatch(/text\/html/);
    expect(errorCode(limited.html)).toBe('temporarily_unavailable');
    expect(textOf(limited.html)).toContain('Too many requests. Please try again in 10 minutes.');
    // Refused again: counted every time, audited once per window.
    expect((await submitLogin(ua, page, user.email, user.password, from(ip))).status).toBe(429);
    expect(await counterValue(server.gatehouse.metrics.rateLimitHits, { policy: 'signInIp' })).toBe(before + 2);
    const audited = (await eventsOf(server, 'ratelimit.exceeded')).filter((e) => e.ip === ip);
    expect(audited).toHaveLength(1);
    expect(audited[0]?.details).toEqual({ policy: 'signInIp', limit: PER_IP, windowSeconds: 600 });

    // The same user from another address signs in.
    expect((await submitLogin(ua, page, user.email, user.password, from(randomIp()))).status).toBe(303);
  });

  it('counts sign-ins against the last X-Forwarded-For entry, the one the trusted proxy added, whatever the client writes in front (1 hop)', async () => {
    const { ua, page } = await loginPage();
    const client = randomIp();
    // The client writes a new address per request; the one proxy appends the address it saw.
    const forged = rotating(PER_IP + 1, (n) => `198.51.100.${n}, ${client}`);
    expect(await signInStatuses(ua, page, forged)).toEqual(refusedAfter(PER_IP));
    const audited = (await eventsOf(server, 'ratelimit.exceeded')).filter((e) => e.ip === client);
    expect(audited).toHaveLength(1);
    // The limited address written in front of another one counts for the other one.
    expect(await signInStatuses(ua, page, [`${client}, ${randomIp()}`])).toEqual([401]);
  });

  it(`counts failures per address, not sign-ins: an office behind one address signs in more than ${PER_IP} times, and failures past ${PER_IP} are refused`, async () => {
    const ip = randomIp();
    // Six colleagues behind one NAT: each sign-in succeeds (the old per-attempt count refused the fourth).
    for (let person = 0; person < 2 * PER_IP; person++) {
      const user = await server.buildUser();
      const { ua, page } = await loginPage();
      expect((await submitLogin(ua, page, user.email, user.password, from(ip))).status).toBe(303);
    }
    const { ua, page } = await loginPage();
    for (let attempt = 0; attempt < PER_IP; attempt++) {
      expect((await submitLogin(ua, page, uniqueEmail(), 'wrong password', from(ip))).status).toBe(401);
    }
    const user = await server.buildUser();
    const refused = await submitLogin(ua, page, user.email, user.password, from(ip));
    expect(refused.status).toBe(429);
    expect(errorCode(refused.html)).toBe('temporarily_unavailable');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it(`holds every sign-in from one address, successes included, to the far higher ceiling of ${ATTEMPTS_PER_IP}`, async () => {
    const ip = randomIp();
    for (let person = 0; person < ATTEMPTS_PER_IP; person++) {
      const user = await server.buildUser();
      const { ua, page } = await loginPage();
      expect((await submitLogin(ua, page, user.email, user.password, from(ip))).status).toBe(303);
    }
    const user = await server.buildUser();
    const { ua, page } = await loginPage();
    const refused = await submitLogin(ua, page, user.email, user.password, from(ip));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const audited = (await eventsOf(server, 'ratelimit.exceeded')).filter((e) => e.ip === ip);
    expect(audited.map((e) => e.details.policy)).toEqual(['signInIpAttempts']);
  });

  it(`counts wrong current passwords on /account as sign-in failures of the address: after ${PER_IP}, /account and the sign-in page answer 429`, async () => {
    const ip = randomIp();
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer, from(ip));
    const page = await openAccountPage(ua, user.email, user.password);
    const change = (current: string) =>
      ua.post('/account/password', {
        csrf: accountCsrf(page),
        current_password: current,
        new_password: 'a fresh long password',
      });
    for (let attempt = 0; attempt < PER_IP; attempt++) expect((await change(`not it ${attempt}`)).status).toBe(400);
    const refused = await change(user.password);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(errorCode(refused.html)).toBe('temporarily_unavailable');
    expect(textOf(refused.html)).toContain('Too many requests.');
    const hash = await server.gatehouse.storage.storage.users.passwordHash(user.id);
    const { createPasswordHasher } = await import('../../../src/accounts/passwords.js');
    expect(await createPasswordHasher(server.gatehouse.config.passwords.argon2).verify(hash, user.password)).toBe(true);
    // The same budget as the sign-in page's.
    const { ua: other, page: login } = await loginPage();
    expect((await submitLogin(other, login, user.email, user.password, from(ip))).status).toBe(429);
  });

  it('shows the 429 page in the language the browser asks for', async () => {
    const { ua, page } = await loginPage();
    const ip = randomIp();
    for (let attempt = 0; attempt < PER_IP; attempt++)
      await submitLogin(ua, page, uniqueEmail(), 'wrong password', from(ip));
    const limited = await submitLogin(ua, page, uniqueEmail(), 'wrong password', {
      ...from(ip),
      'accept-language': 'de-DE,de;q=0.9',
    });
    expect(limited.status).toBe(429);
    expect(textOf(limited.html)).toContain('Zu viele Anfragen. Bitte versuchen Sie es in 10 Minuten erneut.');
  });

  it(`answers 429 after ${PER_ACCOUNT} attempts for one account from as many addresses, for known and unknown emails alike`, async () => {
    const user = await server.buildUser();
    for (const email of [user.email, uniqueEmail()]) {
      const { ua, page } = await loginPage();
      for (let attempt = 0; attempt < PER_ACCOUNT; attempt++) {
        expect((await submitLogin(ua, page, email, 'wrong password', from(randomIp()))).status).toBe(401);
      }
      const limited = await submitLogin(ua, page, email, 'wrong password', from(randomIp()));
      expect(limited.status).toBe(429);
      expect(errorCode(limited.html)).toBe('temporarily_unavailable');
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    }
  });

  it(`refuses the token endpoint per client after ${PER_CLIENT} requests with 429, an OAuth error and Retry-After`, async () => {
    const client = await server.buildClient({
      name: 'Batch job',
      grantTypes: ['client_credentials'],
      redirectUris: [],
      postLogoutRedirectUris: [],
      scope: 'openid',
    });
    const other = await server.buildClient({
      name: 'Other job',
      grantTypes: ['client_credentials'],
      redirectUris: [],
      postLogoutRedirectUris: [],
      scope: 'openid',
    });
    const config = await discoverRp(server.issuer, client);
    for (let request = 0; request < PER_CLIENT; request++) {
      expect((await oidc.clientCredentialsGrant(config, {})).access_token).toEqual(expect.any(String));
    }
    const refused = await oidc.clientCredentialsGrant(config, {}).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(oidc.ResponseBodyError);
    const failure = refused as oidc.ResponseBodyError;
    expect(failure.status).toBe(429);
    expect(failure.error).toBe('temporarily_unavailable');
    expect(failure.response.headers.get('retry-after')).toMatch(/^\d+$/);
    // Another client is not affected.
    expect((await oidc.clientCredentialsGrant(await discoverRp(server.issuer, other), {})).access_token).toEqual(
      expect.any(String),
    );
  });

  it('limits a client named in the form body (client_secret_post) the same way, and leaves a request naming no client to the provider', async () => {
    const client = await server.buildClient({
      name: 'Post job',
      grantTypes: ['client_credentials'],
      redirectUris: [],
      postLogoutRedirectUris: [],
      scope: 'openid',
      authMethod: 'client_secret_post',
    });
    const post = (body: Record<string, string>) =>
      fetch(`${server.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams(body),
      });
    const form = {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret ?? '',
    };
    for (let request = 0; request < PER_CLIENT; request++) expect((await post(form)).status).toBe(200);
    const limited = await post(form);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: expect.stringContaining('Too many requests'),
    });
    const anonymous = await post({ grant_type: 'client_credentials' });
    expect(anonymous.status).toBe(400);
    expect(((await anonymous.json()) as { error: string }).error).toMatch(/invalid_(request|client)/);
  });

  it(`limits passkey sign-in (options and verify together) per address with a JSON 429 after ${PASSKEY_PER_IP} requests`, async () => {
    const ua = new UserAgent(server.issuer);
    const login = await openLogin(ua, rp, server);
    const ip = randomIp();
    const options = await ua.postJson(
      `/interaction/${login.uid}/webauthn/passkey/options`,
      {},
      { 'x-csrf-token': login.csrf, ...from(ip) },
    );
    expect(options.status).toBe(200);
    // A malformed assertion is refused as before, and counts.
    const garbage = await ua.postJson(
      `/interaction/${login.uid}/webauthn/passkey/verify`,
      { response: { id: 'x', type: 'public-key' } },
      { 'x-csrf-token': login.csrf, ...from(ip) },
    );
    expect(garbage.status).toBeGreaterThanOrEqual(400);
    expect(garbage.status).toBeLessThan(429);
    const limited = await ua.postJson(
      `/interaction/${login.uid}/webauthn/passkey/options`,
      {},
      { 'x-csrf-token': login.csrf, ...from(ip) },
    );
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(json<{ error: string }>(limited).error).toBe('temporarily_unavailable');
    // Another address still gets options.
    expect(
      (
        await ua.postJson(
          `/interaction/${login.uid}/webauthn/passkey/options`,
          {},
          { 'x-csrf-token': login.csrf, ...from(randomIp()) },
        )
      ).status,
    ).toBe(200);
  });
});
