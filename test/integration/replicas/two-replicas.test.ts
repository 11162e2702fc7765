import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startBuiltServer } from '../../helpers/processes.js';
import { freePort } from '../../helpers/ports.js';
import { startReplicas, type ReplicaName, type Replicas } from '../../helpers/replicas.js';
import { buildAuthRequest, discoverRp, oidc, redeemCode } from '../../helpers/rp.js';
import { OFFLINE, jwsHeader, oauthFailure, refreshTokenOf } from '../../helpers/tokens.js';
import { UserAgent, csrfToken, runAuthorization } from '../../helpers/user-agent.js';
import { follow, logoutForm, pageKind, paramsOf, submitLogin, textOf, withoutQuery } from '../../helpers/sessions.js';
import { from, randomIp } from '../limits/support.js';
import { startMailCatcher, type MailCatcher } from '../../helpers/mail-catcher.js';
import { resetLinkFor, submitNewPassword } from '../../helpers/password-reset.js';

/**
 * Issue #6, "several replicas, one state": two processes of the built server behind one
 * origin (the issuer), sharing PostgreSQL and Redis. The relying party is openid-client; the
 * browser keeps its cookies for the issuer's origin, whichever replica answers.
 * PostgreSQL + Redis only, so no describe.each(STORE_BACKENDS): the embedded database is single
 * node by design. docs/operations.md ("Scaling out") says what this proves.
 */
const RELOAD_SECONDS = 1;
const ACTIVATION_SECONDS = 2;
const SIGN_IN_PER_IP = 3;
const REDIRECT_URI = 'http://127.0.0.1:9999/callback';
const POST_LOGOUT = 'http://127.0.0.1:9999/logged-out';
const SETTINGS = `
keys:
  reloadIntervalSeconds: ${RELOAD_SECONDS}
  activationDelaySeconds: ${ACTIVATION_SECONDS}
rateLimits:
  signInIp: { points: ${SIGN_IN_PER_IP}, durationSeconds: 600 }
`;

interface Jwks {
  keys: Array<{ kid: string; alg: string; d?: string }>;
}

/** A JWK Set's keys by kid: the order differs for a moment while replicas activate new keys. */
const byKid = (jwks: Jwks) => [...jwks.keys].sort((a, b) => a.kid.localeCompare(b.kid));

describe('two replicas on one PostgreSQL and one Redis', () => {
  let replicas: Replicas;
  let mail: MailCatcher;
  let rp: oidc.Configuration;
  let user: { id: string; email: string; password: string };
  /** An admin API token (admin:read admin:write) from a client_credentials client, issued by A. */
  let adminToken: string;

  beforeAll(async () => {
    mail = await startMailCatcher();
    replicas = await startReplicas(SETTINGS, { SMTP_URL: mail.url, MAIL_FROM: 'Gatehouse <no-reply@example.test>' });
    user = await createUser();
    const client = await replicas.cli([
      'clients',
      'create',
      '--name',
      'Replica RP',
      '--redirect-uri',
      REDIRECT_URI,
      '--post-logout-redirect-uri',
      POST_LOGOUT,
      '--first-party',
      '--json',
    ]);
    if (client.code !== 0) throw new Error(client.stderr);
    const { client_id: clientId, client_secret: clientSecret } = JSON.parse(client.stdout) as {
      client_id: string;
      client_secret: string;
    };
    rp = await discoverRp(replicas.issuer, { clientId, clientSecret });
    const ops = await replicas.cli([
      'clients',
      'create',
      '--name',
      'Ops',
      '--grant-types',
      'client_credentials',
      '--scope',
      'openid',
      '--admin-scopes',
      'admin:read,admin:write',
      '--json',
    ]);
    const admin = JSON.parse(ops.stdout) as { client_id: string; client_secret: string };
    const opsRp = await discoverRp(replicas.issuer, { clientId: admin.client_id, clientSecret: admin.client_secret });
    via('A');
    adminToken = (await oidc.clientCredentialsGrant(opsRp, { scope: 'admin:read admin:write' })).access_token;
  }, 240_000);
  afterAll(async () => {
    await replicas?.close();
    await mail?.close();
  }, 60_000);

  const via = (replica: ReplicaName) => replicas.balancer.via(replica);

  /** A user made with the CLI, as an operator beside the replicas would. */
  async function createUser(): Promise<{ id: string; email: string; password: string }> {
    const password = `replicas ${randomBytes(6).toString('hex')} passphrase`;
    const created = await replicas.cli([
      'users',
      'create',
      '--email',
      `replica-${randomBytes(4).toString('hex')}@example.test`,
      '--password',
      password,
      '--json',
    ]);
    if (created.code !== 0) throw new Error(created.stderr);
    const { id, email } = JSON.parse(created.stdout) as { id: string; email: string };
    return { id, email, password };
  }
  /**
   * A browser at an address of its own (X-Forwarded-For; the replicas trust the proxy): the
   * per-IP limit here is small, and the one Redis is shared with other suites.
   */
  const browser = () => new UserAgent(replicas.issuer, from(randomIp()));

  /** A whole sign-in on the replica currently behind the balancer; the pages shown and the tokens. */
  async function signInOn(ua: UserAgent, params: Record<string, string> = {}) {
    const request = await buildAuthRequest(rp, REDIRECT_URI, params);
    const trace = await runAuthorization(ua, request.url, REDIRECT_URI, { email: user.email, password: user.password });
    return { pages: trace.pages, tokens: await redeemCode(rp, trace.callbackUrl, request) };
  }

  /** The admin API of one replica, through the balancer. */
  const adminCall = (replica: ReplicaName, method: string, path: string, token = adminToken) => {
    via(replica);
    return fetch(`${replicas.issuer}/admin/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
  };

  async function jwksOf(origin: string): Promise<Jwks> {
    const res = await fetch(`${origin}/jwks`);
    expect(res.status).toBe(200);
    return (await res.json()) as Jwks;
  }

  it('booted both replicas on the empty database at once and publishes the same keys on each', async () => {
    const [a, b] = await Promise.all([jwksOf(replicas.direct.A), jwksOf(replicas.direct.B)]);
    expect(a.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    expect(byKid(b)).toEqual(byKid(a));
    expect(a.keys.every((k) => k.d === undefined)).toBe(true);
    for (const origin of [replicas.direct.A, replicas.direct.B]) {
      const discovery = (await (await fetch(`${origin}/.well-known/openid-configuration`)).json()) as {
        issuer: string;
      };
      expect(discovery.issuer).toBe(replicas.issuer);
    }
  });

  it('refuses to start a third replica with another key-encryption secret, saying so', async () => {
    const port = await freePort();
    const outcome = await startBuiltServer({
      ...replicas.env,
      PORT: String(port),
      DATA_DIR: join(replicas.workDir, 'C'),
      KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64'),
    }).then(
      (stray) => {
        stray.child.kill('SIGKILL');
        return 'it started';
      },
      (error: Error) => error.message,
    );
    expect(outcome).toMatch(
      /server exited early[\s\S]*failed to start: cannot decrypt: the key-encryption secret differs/,
    );
    // Spawns a built server that must get as far as decrypting the keys before it refuses.
  }, 60_000);

  it('signs in on A and gives single sign-on on B, with no login page, the same issuer and subject', async () => {
    const ua = browser();
    via('A');
    const onA = await signInOn(ua);
    expect(onA.pages).toEqual(['login']);
    const servedByB = replicas.balancer.served.B;
    via('B');
    const onB = await signInOn(ua);
    expect(onB.pages).toEqual([]);
    expect(replicas.balancer.served.B).toBeGreaterThan(servedByB);
    const [claimsA, claimsB] = [onA.tokens.claims(), onB.tokens.claims()];
    expect(claimsB?.iss).toBe(replicas.issuer);
    expect(claimsB?.iss).toBe(claimsA?.iss);
    expect(claimsB?.sub).toBe(user.id);
    expect(claimsB?.sid).toBe(claimsA?.sid);
    // An access token issued by A is good on B.
    const info = await oidc.fetchUserInfo(rp, onA.tokens.access_token, user.id);
    expect(info.email).toBe(user.email);
  });

  it('refuses, on B, a browser whose session cookie was not signed with the shared keys', async () => {
    const ua = browser();
    via('A');
    await signInOn(ua);
    for (const [name, value] of ua.cookies) if (name.endsWith('.sig')) ua.cookies.set(name, `${value.slice(0, -2)}xx`);
    via('B');
    const request = await buildAuthRequest(rp, REDIRECT_URI, { prompt: 'none' });
    const page = await follow(ua, request.url, replicas.issuer);
    expect(paramsOf(page.location).error).toBe('login_required');
  });

  it('refreshes on B a refresh token issued on A; the rotated one is then dead on A, and its reuse ends the grant', async () => {
    const ua = browser();
    via('A');
    const { tokens } = await signInOn(ua, OFFLINE);
    const first = refreshTokenOf(tokens);
    via('B');
    const refreshed = await oidc.refreshTokenGrant(rp, first);
    const second = refreshTokenOf(refreshed);
    expect(second).not.toBe(first);
    expect(refreshed.claims()?.iss).toBe(replicas.issuer);
    via('A');
    expect(await oauthFailure(oidc.refreshTokenGrant(rp, first))).toEqual({ status: 400, error: 'invalid_grant' });
    // RFC 9700 §4.14.2: the reuse of a rotated token revokes the grant on every replica.
    via('B');
    expect(await oauthFailure(oidc.refreshTokenGrant(rp, second))).toEqual({ status: 400, error: 'invalid_grant' });
  });

  it('ends on B the session that RP-initiated logout ended on A', async () => {
    const ua = browser();
    via('A');
    const { tokens } = await signInOn(ua);
    const confirm = await ua.get(
      oidc
        .buildEndSessionUrl(rp, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: POST_LOGOUT })
        .toString(),
    );
    const form = logoutForm(confirm);
    const done = await ua.post(form.action, { xsrf: form.xsrf, logout: 'yes' });
    expect(withoutQuery(done.location)).toBe(POST_LOGOUT);

    via('B');
    const silent = await follow(
      ua,
      (await buildAuthRequest(rp, REDIRECT_URI, { prompt: 'none' })).url,
      replicas.issuer,
    );
    expect(paramsOf(silent.location).error).toBe('login_required');
    const interactive = await follow(ua, (await buildAuthRequest(rp, REDIRECT_URI)).url, replicas.issuer);
    expect(pageKind(interactive)).toBe('login');
    await expect(oidc.fetchUserInfo(rp, tokens.access_token, user.id)).rejects.toMatchObject({ status: 401 });
  });

  it('signs on B with a key rotated through the admin API on A, after the configured propagation, and both JWKS agree', async () => {
    const before = await jwksOf(replicas.direct.B);
    // The admin token issued by A is accepted by B (it lives in PostgreSQL), and refused when forged.
    expect((await adminCall('B', 'GET', '/keys')).status).toBe(200);
    expect((await adminCall('B', 'GET', '/keys', `${adminToken}x`)).status).toBe(401);

    const rotatedAt = Date.now();
    const rotated = await adminCall('A', 'POST', '/keys/rotate');
    expect(rotated.status).toBe(200);
    const { active } = (await rotated.json()) as { active: string[] };
    expect((await jwksOf(replicas.direct.A)).keys.map((k) => k.kid)).toEqual(expect.arrayContaining(active));

    // B publishes them within keys.reloadIntervalSeconds (polled, with a generous bound for a busy machine).
    const deadline = Date.now() + 30_000;
    let onB = await jwksOf(replicas.direct.B);
    while (!active.every((kid) => onB.keys.some((k) => k.kid === kid)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, RELOAD_SECONDS * 250));
      onB = await jwksOf(replicas.direct.B);
    }
    expect(byKid(onB)).toEqual(byKid(await jwksOf(replicas.direct.A)));
    // Old keys stay published for what they signed.
    expect(onB.keys.map((k) => k.kid)).toEqual(expect.arrayContaining(before.keys.map((k) => k.kid)));

    // They sign once keys.activationDelaySeconds has passed and each replica has looked again.
    const activated = rotatedAt + (ACTIVATION_SECONDS + RELOAD_SECONDS) * 1000 + 500;
    await new Promise((r) => setTimeout(r, Math.max(0, activated - Date.now())));
    for (const replica of ['B', 'A'] as const) {
      via(replica);
      const { tokens } = await signInOn(browser());
      expect(active).toContain(jwsHeader(tokens.id_token).kid);
      expect(tokens.claims()?.iss).toBe(replicas.issuer);
    }
    // Waits out the reload interval (polled up to 30 s on a busy machine) and the activation delay.
  }, 60_000);

  it('lets a sign-in begun on A right after a rotation through A finish on B, and B publishes the key that signed', async () => {
    via('A');
    expect((await adminCall('A', 'POST', '/keys/rotate')).status).toBe(200);
    const ua = browser();
    const request = await buildAuthRequest(rp, REDIRECT_URI);
    const login = await follow(ua, request.url, replicas.issuer);
    expect(pageKind(login)).toBe('login');
    via('B');
    const signedIn = await submitLogin(ua, login, user.email, user.password);
    expect(signedIn.status).toBe(303);
    const done = await follow(ua, signedIn.location ?? '', replicas.issuer);
    expect(withoutQuery(done.location)).toBe(REDIRECT_URI);
    const tokens = await redeemCode(rp, done.location ?? '', request);
    const kid = jwsHeader(tokens.id_token).kid;
    expect((await jwksOf(replicas.direct.B)).keys.map((k) => k.kid)).toContain(kid);
    expect((await jwksOf(replicas.direct.A)).keys.map((k) => k.kid)).toContain(kid);
  });

  it('refuses on B, at once, a client secret replaced through A (B drops its kept row when PostgreSQL announces the commit)', async () => {
    const made = await replicas.cli([
      'clients',
      'create',
      '--name',
      'Worker',
      '--grant-types',
      'client_credentials',
      '--scope',
      'openid',
      '--json',
    ]);
    const worker = JSON.parse(made.stdout) as { client_id: string; client_secret: string };
    const oldRp = await discoverRp(replicas.issuer, { clientId: worker.client_id, clientSecret: worker.client_secret });
    via('B');
    expect((await oidc.clientCredentialsGrant(oldRp)).access_token).toEqual(expect.any(String));
    const replaced = await adminCall('A', 'POST', `/clients/${worker.client_id}/secret`);
    expect(replaced.status).toBe(200);
    const { client_secret: fresh } = (await replaced.json()) as { client_secret: string };
    via('B');
    expect(await oauthFailure(oidc.clientCredentialsGrant(oldRp))).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
    const newRp = await discoverRp(replicas.issuer, { clientId: worker.client_id, clientSecret: fresh });
    expect((await oidc.clientCredentialsGrant(newRp)).access_token).toEqual(expect.any(String));
  });

  it('resets a password across replicas: form from A posted to B, link mailed by B used on A, its second use refused on B', async () => {
    const owner = await createUser();
    const NEW_PASSWORD = 'a brand new replica passphrase';
    const asker = browser();
    via('A');
    const form = await asker.get('/password/forgot');
    expect(form.status).toBe(200);
    via('B');
    const asked = await asker.post('/password/forgot', { csrf: csrfToken(form.html), email: owner.email });
    expect(asked.status).toBe(200);
    const link = await resetLinkFor(mail, owner.email);
    expect(link.startsWith(`${replicas.issuer}/password/reset?token=`)).toBe(true);

    via('A');
    const done = await submitNewPassword(browser(), link, NEW_PASSWORD);
    expect(done.status).toBe(200);
    expect(textOf(done.html)).toContain('Your password was changed');
    via('B');
    const reused = await submitNewPassword(browser(), link, 'yet another replica passphrase');
    expect(reused.status).toBe(400);
    expect(textOf(reused.html)).toContain('This link does not work');

    const ua = browser();
    const request = await buildAuthRequest(rp, REDIRECT_URI);
    const trace = await runAuthorization(ua, request.url, REDIRECT_URI, { email: owner.email, password: NEW_PASSWORD });
    expect(trace.pages).toEqual(['login']);
    expect((await redeemCode(rp, trace.callbackUrl, request)).claims()?.sub).toBe(owner.id);
  });

  it('shares rate limits: sign-in attempts exhausted through A are refused by B with 429', async () => {
    const ip = randomIp();
    const ua = browser();
    via('A');
    const login = await follow(ua, (await buildAuthRequest(rp, REDIRECT_URI)).url, replicas.issuer);
    for (let attempt = 0; attempt < SIGN_IN_PER_IP; attempt++) {
      expect((await submitLogin(ua, login, user.email, 'not the password', from(ip))).status).toBe(401);
    }
    via('B');
    const refused = await submitLogin(ua, login, user.email, user.password, from(ip));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another address is not affected, on either replica.
    expect((await submitLogin(ua, login, user.email, user.password, from(randomIp()))).status).toBe(303);
  });
});
