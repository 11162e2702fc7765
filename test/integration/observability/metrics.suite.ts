import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, useTestServer, type TestServer } from '../../helpers/server.js';
import { freePort } from '../../helpers/ports.js';
import { BOOT_TIMEOUT, UserAgent, buildRp, openAuthorization, submitLogin } from '../../helpers/sessions.js';
import { discoverRp, oidc } from '../../helpers/rp.js';
import { OFFLINE, oauthFailure, refreshTokenOf, signIn } from '../../helpers/tokens.js';
import { buildTotpUser, passwordStep, submitCode, wrongTotpCode } from '../mfa/support.js';
import { configProblems } from '../../helpers/config-problems.js';
import { scrape, total, type Sample } from './support.js';

const DURATION = 'gatehouse_http_request_duration_seconds_count';

describe.each(HTTP_BACKENDS)('/metrics (%s)', (backend) => {
  describe('on the main port', () => {
    const server = useTestServer(backend, { metrics: { enabled: true, port: 0 } });
    const metricsUrl = () => `${server.issuer}/metrics`;

    it('counts tokens by grant type, sign-ins by method and result, second factors, refresh reuse, and times requests by route template', async () => {
      const before = await scrape(metricsUrl());

      // A code flow with a refresh token, a rotation, and the rotated token presented again.
      const { tokens, rp } = await signIn(server, { params: OFFLINE });
      const first = refreshTokenOf(tokens);
      await oidc.refreshTokenGrant(rp, first);
      expect((await oauthFailure(oidc.refreshTokenGrant(rp, first))).error).toBe('invalid_grant');
      // A machine client.
      const service = await server.buildClient({
        grantTypes: ['client_credentials'],
        redirectUris: [],
        postLogoutRedirectUris: [],
        scope: 'openid',
      });
      await oidc.clientCredentialsGrant(await discoverRp(server.issuer, service));
      // A wrong password, and a wrong second factor after a right password.
      const testRp = await buildRp(server);
      const user = await server.buildUser();
      const ua = new UserAgent(server.issuer);
      const { page: login } = await openAuthorization(ua, testRp, server.issuer);
      const interactionUid = /\/interaction\/([^/?#]+)/.exec(login.url)?.[1];
      expect(interactionUid).toEqual(expect.any(String));
      expect((await submitLogin(ua, login, user.email, 'not the password at all')).status).toBe(401);
      const totpUser = await buildTotpUser(server);
      const mfaUa = new UserAgent(server.issuer);
      const { page: mfaPage } = await passwordStep(mfaUa, server, testRp, totpUser);
      expect(
        (await submitCode(mfaUa, mfaPage, 'totp', await wrongTotpCode(totpUser.secret))).status,
      ).toBeGreaterThanOrEqual(400);

      const after = await scrape(metricsUrl());
      const moved = (name: string, labels: Record<string, string> = {}) =>
        total(after, name, labels) - total(before, name, labels);
      expect(moved('gatehouse_tokens_issued_total', { grant_type: 'authorization_code' })).toBe(1);
      expect(moved('gatehouse_tokens_issued_total', { grant_type: 'refresh_token' })).toBe(1);
      expect(moved('gatehouse_tokens_issued_total', { grant_type: 'client_credentials' })).toBe(1);
      expect(moved('gatehouse_refresh_token_reuse_total')).toBe(1);
      expect(moved('gatehouse_sign_ins_total', { method: 'password', result: 'success' })).toBe(2);
      expect(moved('gatehouse_sign_ins_total', { method: 'password', result: 'failure' })).toBe(1);
      expect(moved('gatehouse_second_factor_checks_total', { method: 'totp', result: 'failure' })).toBe(1);
      expect(moved(DURATION, { route: '/token', method: 'POST', status_class: '2xx' })).toBe(3);
      expect(moved(DURATION, { route: '/token', method: 'POST', status_class: '4xx' })).toBe(1);
      expect(moved(DURATION, { route: '/interaction/:uid/login', method: 'POST', status_class: '4xx' })).toBe(1);

      // Route labels are templates: no interaction uid, client id, user id or code in any of them.
      const routes = new Set(after.filter((s) => s.name === DURATION).map((s) => s.labels.route ?? ''));
      const ids = [interactionUid ?? '', user.id, service.clientId, testRp.client.clientId, totpUser.id];
      for (const route of routes) for (const id of ids) expect(route).not.toContain(id);
      expect([...routes].every((r) => r === 'other' || r.startsWith('/'))).toBe(true);
    });

    it('exposes the pool, process and event-loop series, and the rate-limit and lockout counters', async () => {
      const samples: Sample[] = await scrape(metricsUrl());
      expect(total(samples, 'gatehouse_db_pool_connections')).toBeGreaterThan(0);
      expect(samples.some((s) => s.name === 'gatehouse_db_pool_idle_connections')).toBe(true);
      expect(samples.some((s) => s.name === 'gatehouse_db_pool_waiting_requests')).toBe(true);
      expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
      expect(samples.some((s) => s.name === 'process_cpu_seconds_total')).toBe(true);
      const text = await (await fetch(metricsUrl())).text();
      for (const name of [
        'gatehouse_rate_limit_hits_total',
        'gatehouse_lockouts_total',
        'gatehouse_limiter_redis_fallbacks_total',
      ]) {
        expect(text).toContain(`# TYPE ${name} counter`);
      }
    });

    it('answers 405 to anything but GET and HEAD', async () => {
      const res = await fetch(metricsUrl(), { method: 'POST', body: 'x' });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    });
  });

  describe('on a port of its own', () => {
    let server: TestServer;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      server = await startTestServer(backend, { metrics: { enabled: true, port } });
    }, BOOT_TIMEOUT);
    afterAll(async () => {
      await server?.close();
    });

    it('serves /metrics there only, and nothing else of the identity provider', async () => {
      expect(server.gatehouse.metricsPort()).toBe(port);
      await fetch(`${server.issuer}/.well-known/openid-configuration`);
      const samples = await scrape(`http://127.0.0.1:${port}/metrics`);
      expect(
        total(samples, DURATION, { route: '/.well-known/openid-configuration', status_class: '2xx' }),
      ).toBeGreaterThanOrEqual(1);
      expect((await fetch(`${server.issuer}/metrics`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`)).status).toBe(404);
    });
  });

  describe('disabled (the default)', () => {
    const server = useTestServer(backend);

    it('answers 404 at /metrics and opens no metrics listener', async () => {
      expect(server.gatehouse.config.metrics.enabled).toBe(false);
      expect((await fetch(`${server.issuer}/metrics`)).status).toBe(404);
      expect(server.gatehouse.metricsPort()).toBeNull();
    });
  });
});

describe('metrics configuration', () => {
  it('refuses a metrics port equal to the main port, and a non-boolean METRICS_ENABLED', () => {
    expect(configProblems({ PORT: '4000', METRICS_ENABLED: 'true', METRICS_PORT: '4000' })).toEqual([
      'metrics.port: must differ from http.port (0 serves /metrics on the main port)',
    ]);
    expect(configProblems({ METRICS_ENABLED: 'yes' })).toEqual(['METRICS_ENABLED: must be true or false']);
  });
});
