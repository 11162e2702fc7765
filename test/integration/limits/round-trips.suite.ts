import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { freePort } from '../../helpers/ports.js';
import {
  BOOT_TIMEOUT,
  UserAgent,
  buildRp,
  openAuthorization,
  submitLogin,
  type TestRp,
} from '../../helpers/sessions.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../../helpers/throwaway-redis.js';
import { counterValue } from '../../../src/observability/metrics.js';
import { counterKey } from '../../../src/security/rate-limits.js';
import { from, randomIp } from './support.js';

const PER_IP = 2;
const ATTEMPTS_PER_IP = 4;

/** A request the limiter sent to Redis: one command, or a MULTI…EXEC block (one write, one answer). */
interface Request {
  commands: string[][];
}

/**
 * Every request of a sign-in POST costs a loopback round trip and the JS around it (issue 20):
 * the rate limits, the lockout check and its outcome are one Lua script each. Counted with
 * MONITOR on a Redis of this suite's own, which lists what each client sends and, apart
 * (source "lua"), what a script runs.
 */
describe.each(HTTP_BACKENDS)('limiter round trips of a sign-in (%s, throwaway redis-server)', (backend) => {
  let redis: ThrowawayRedis;
  let server: TestServer;
  let rp: TestRp;
  let monitor: Redis;
  let monitorOwner: Redis;
  let probe: Redis;
  const seen: Array<{ source: string; args: string[] }> = [];
  let waitingFor: { marker: string; resolve: () => void } | undefined;

  beforeAll(async () => {
    redis = await startThrowawayRedis(await freePort());
    server = await startTestServer(backend, {
      http: { trustedProxyHops: 1 },
      storage: { redisUrl: redis.url },
      rateLimits: {
        signInIp: { points: PER_IP, durationSeconds: 600 },
        signInIpAttempts: { points: ATTEMPTS_PER_IP, durationSeconds: 600 },
      },
    });
    rp = await buildRp(server);
    probe = new Redis(redis.url);
    monitorOwner = new Redis(redis.url);
    monitor = await monitorOwner.monitor();
    monitor.on('monitor', (_time: string, args: unknown[], source: string) => {
      const command = args.map(String);
      seen.push({ source, args: command });
      if (waitingFor && command[0]?.toLowerCase() === 'get' && command[1] === waitingFor.marker) waitingFor.resolve();
    });
    // A new Redis knows no script yet: the first use of each sends it (EVAL after EVALSHA's
    // NOSCRIPT). One sign-in of each outcome first, so the counts below are a running server's.
    const user = await server.buildUser();
    const { ua, page } = await loginPage();
    expect((await submitLogin(ua, page, user.email, user.password, from(randomIp()))).status).toBe(303);
    expect((await submitLogin(ua, page, user.email, 'wrong password', from(randomIp()))).status).toBe(401);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    monitor?.disconnect();
    monitorOwner?.disconnect();
    probe?.disconnect();
    await server?.close();
    await redis?.stop();
  });

  const prefix = () => `${server.gatehouse.config.storage.redisKeyPrefix}rl:`;
  const fallbacks = () => counterValue(server.gatehouse.metrics.limiterFallbacks);

  /**
   * What the limiter sent to Redis while `action` ran: its requests, and the commands its
   * scripts ran. MONITOR's feed trails the commands; a marker read afterwards on another
   * connection arrives after all of them.
   */
  async function limiterTraffic<T>(action: () => Promise<T>) {
    const marker = `marker-${randomUUID()}`;
    const arrived = new Promise<void>((resolve) => {
      waitingFor = { marker, resolve };
    });
    seen.length = 0;
    const result = await action();
    await probe.get(marker);
    await arrived;
    const own = (command: string[]) => command.slice(1).some((arg) => arg.startsWith(prefix()));
    const requests: Request[] = [];
    const inScripts: string[][] = [];
    const open = new Map<string, string[][]>();
    for (const { source, args } of seen) {
      const name = args[0]?.toLowerCase();
      if (source === 'lua') {
        if (own(args)) inScripts.push(args);
      } else if (name === 'multi') {
        open.set(source, []);
      } else if (name === 'exec') {
        const block = open.get(source) ?? [];
        open.delete(source);
        if (block.some(own)) requests.push({ commands: block });
      } else if (open.has(source)) {
        open.get(source)?.push(args);
      } else if (own(args)) {
        requests.push({ commands: [args] });
      }
    }
    return { result, requests, inScripts };
  }

  async function loginPage() {
    const ua = new UserAgent(server.issuer);
    return { ua, page: (await openAuthorization(ua, rp, server.issuer)).page };
  }
  const kinds = (requests: Request[]) => requests.map((r) => r.commands.map((c) => c[0]?.toLowerCase()).join('+'));

  it('sends a successful password sign-in to Redis in 3 requests: the limits, the lockout check, the success', async () => {
    const user = await server.buildUser();
    const { ua, page } = await loginPage();
    const before = await fallbacks();
    const { result, requests, inScripts } = await limiterTraffic(() =>
      submitLogin(ua, page, user.email, user.password, from(randomIp())),
    );
    expect(result.status).toBe(303);
    // Thirteen before: a MULTI per read, a script per consume, a DEL per key, the generation read twice.
    expect(kinds(requests)).toEqual(['evalsha', 'evalsha', 'evalsha']);
    // Counted in Redis, not in process.
    expect(await fallbacks()).toBe(before);
    const touched = new Set(inScripts.map((c) => c[1]?.slice(prefix().length).split(':').slice(0, 2).join(':')));
    expect([...touched].sort()).toEqual([
      'lockout:failures',
      'lockout:generation',
      'lockout:trusted',
      'lockout:waits',
      'rate:signInAccount',
      'rate:signInIp',
      'rate:signInIpAttempts',
    ]);
  });

  it('sends a wrong password in 4: the limits, the lockout check, the failure, the failure of the address', async () => {
    const { ua, page } = await loginPage();
    const { result, requests } = await limiterTraffic(() =>
      submitLogin(ua, page, uniqueEmail(), 'wrong password', from(randomIp())),
    );
    expect(result.status).toBe(401);
    expect(kinds(requests)).toEqual(['evalsha', 'evalsha', 'evalsha', 'evalsha']);
  });

  it('sends a script again once when Redis has forgotten it (a restart), and still counts in Redis', async () => {
    await probe.script('FLUSH');
    const user = await server.buildUser();
    const { ua, page } = await loginPage();
    const before = await fallbacks();
    const ip = randomIp();
    const { result, requests } = await limiterTraffic(() => submitLogin(ua, page, user.email, user.password, from(ip)));
    expect(result.status).toBe(303);
    // Twice the round trips, this once: EVALSHA answered NOSCRIPT, then EVAL.
    expect(kinds(requests)).toEqual(['evalsha', 'eval', 'evalsha', 'eval', 'evalsha', 'eval']);
    expect(await fallbacks()).toBe(before);
    expect(await probe.get(`${prefix()}rate:signInIpAttempts:${counterKey(ip)}`)).toBe('1');
  });

  it('leaves the later budgets untouched when an earlier one refuses: an address past its failures spends neither its attempts nor the account’s', async () => {
    const ip = randomIp();
    const { ua, page } = await loginPage();
    for (let n = 0; n < PER_IP; n++) {
      expect((await submitLogin(ua, page, uniqueEmail(), 'wrong password', from(ip))).status).toBe(401);
    }
    const email = uniqueEmail();
    expect((await submitLogin(ua, page, email, 'wrong password', from(ip))).status).toBe(429);
    const key = (policy: string, of: string) => `${prefix()}rate:${policy}:${counterKey(of)}`;
    // The refusal counts against the failures, as every refused request does.
    expect(await probe.get(key('signInIp', ip))).toBe(String(PER_IP + 1));
    expect(await probe.get(key('signInIpAttempts', ip))).toBe(String(PER_IP));
    expect(await probe.exists(key('signInAccount', email))).toBe(0);
    // The windows rate-limiter-flexible gives them (600 s), so either kind of replica reads them alike.
    expect(await probe.ttl(key('signInIp', ip))).toBeGreaterThan(590);
    expect(await probe.ttl(key('signInIpAttempts', ip))).toBeGreaterThan(590);
  });

  it('leaves the account’s budget untouched when the attempts of the address refuse', async () => {
    const ip = randomIp();
    for (let n = 0; n < ATTEMPTS_PER_IP; n++) {
      const user = await server.buildUser();
      const { ua, page } = await loginPage();
      expect((await submitLogin(ua, page, user.email, user.password, from(ip))).status).toBe(303);
    }
    const user = await server.buildUser();
    const { ua, page } = await loginPage();
    expect((await submitLogin(ua, page, user.email, user.password, from(ip))).status).toBe(429);
    expect(await probe.get(`${prefix()}rate:signInIpAttempts:${counterKey(ip)}`)).toBe(String(ATTEMPTS_PER_IP + 1));
    expect(await probe.exists(`${prefix()}rate:signInAccount:${counterKey(user.email)}`)).toBe(0);
  });
});
