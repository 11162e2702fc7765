import { startTestServer, type TestServer } from '../../helpers/server.js';
import { BOOT_TIMEOUT, UserAgent, buildRp, openAuthorization, type TestRp } from '../../helpers/sessions.js';
import { eventsOf, randomIp, refusedAfter, rotating, signInStatuses } from './support.js';

/**
 * Which address keys the per-address sign-in limit (and the lockout and the audit log, which
 * read the same ctx.ip) for 0 and 2 trusted proxy hops; 1 hop, the chart's setting, is in
 * rate-limits.test.ts. A client writes X-Forwarded-For entries of its choosing in front of
 * what the proxies append (issue 14, finding 3). PostgreSQL only: the address does not
 * depend on storage.
 */
const PER_IP = 3;

async function limitedServer(trustedProxyHops: number): Promise<{ server: TestServer; rp: TestRp }> {
  const server = await startTestServer('postgres', {
    http: { trustedProxyHops },
    rateLimits: { signInIp: { points: PER_IP, durationSeconds: 600 } },
  });
  return { server, rp: await buildRp(server) };
}

describe('client address with no trusted proxy (postgres)', () => {
  let server: TestServer;
  let rp: TestRp;
  beforeAll(async () => {
    ({ server, rp } = await limitedServer(0));
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
  });

  it("ignores X-Forwarded-For entirely: every sign-in counts against the connection's address", async () => {
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    const forged = rotating(PER_IP + 1, (n) => `198.51.100.${n}, 203.0.113.${n}`);
    expect(await signInStatuses(ua, page, forged)).toEqual(refusedAfter(PER_IP));
    const audited = await eventsOf(server, 'ratelimit.exceeded');
    expect(audited.map((e) => e.ip)).toEqual(['127.0.0.1']);
  });

  it("ignores X-Forwarded-Host and -Proto: discovery names the issuer's origin", async () => {
    const res = await fetch(`${server.issuer}/.well-known/openid-configuration`, {
      headers: { 'x-forwarded-host': 'attacker.example.test', 'x-forwarded-proto': 'https' },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { jwks_uri: string }).jwks_uri).toBe(`${server.issuer}/jwks`);
  });
});

describe('client address behind two trusted proxies (postgres)', () => {
  let server: TestServer;
  let rp: TestRp;
  beforeAll(async () => {
    ({ server, rp } = await limitedServer(2));
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
  });

  async function loginPage() {
    const ua = new UserAgent(server.issuer);
    return { ua, page: (await openAuthorization(ua, rp, server.issuer)).page };
  }

  it('counts sign-ins against the second-to-last entry, whatever the client writes in front and whichever outer proxy node forwarded it', async () => {
    const { ua, page } = await loginPage();
    const client = randomIp();
    // A cloud load balancer appends the client, the ingress appends the balancer node it came from.
    const forged = rotating(PER_IP + 1, (n) => `198.51.100.${n}, ${client}, 192.0.2.${n}`);
    expect(await signInStatuses(ua, page, forged)).toEqual(refusedAfter(PER_IP));
    const audited = (await eventsOf(server, 'ratelimit.exceeded')).filter((e) => e.ip === client);
    expect(audited).toHaveLength(1);
    // Another client through the same balancer node is not refused.
    expect(await signInStatuses(ua, page, [`${client}, ${randomIp()}, 192.0.2.1`])).toEqual([401]);
  });

  it('takes the left-most entry when fewer than two are present (a request that reached the inner proxy directly)', async () => {
    const { ua, page } = await loginPage();
    const inner = randomIp();
    expect(
      await signInStatuses(
        ua,
        page,
        rotating(PER_IP + 1, () => inner),
      ),
    ).toEqual(refusedAfter(PER_IP));
    expect((await eventsOf(server, 'ratelimit.exceeded')).filter((e) => e.ip === inner)).toHaveLength(1);
  });
});
