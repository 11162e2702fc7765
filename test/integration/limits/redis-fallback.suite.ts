import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { freePort } from '../../helpers/ports.js';
import {
  BOOT_TIMEOUT,
  UserAgent,
  buildRp,
  openAuthorization,
  signIn,
  submitLogin,
  type TestRp,
} from '../../helpers/sessions.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { counterValue } from '../../../src/observability/metrics.js';
import { from, randomIp } from './support.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../../helpers/throwaway-redis.js';

const PER_IP = 3;

describe.each(HTTP_BACKENDS)('limits while Redis is unavailable (%s, throwaway redis-server)', (backend) => {
  let server: TestServer;
  let rp: TestRp;
  let redis: ThrowawayRedis;
  /** The server's log lines (info and up), parsed. */
  const logged: Array<{ level: number; msg: string }> = [];
  beforeAll(async () => {
    redis = await startThrowawayRedis(await freePort());
    server = await startTestServer(
      backend,
      {
        http: { trustedProxyHops: 1 },
        storage: { redisUrl: redis.url },
        rateLimits: { signInIp: { points: PER_IP, durationSeconds: 600 } },
      },
      {
        logTo: {
          write: (line) => {
            logged.push(JSON.parse(line) as { level: number; msg: string });
          },
        },
        logLevel: 'info',
      },
    );
    rp = await buildRp(server);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    // Back up before closing, so the shared store's connection can quit cleanly.
    await redis?.start();
    await server?.close();
    await redis?.stop();
  });

  const fallbacks = () => counterValue(server.gatehouse.metrics.limiterFallbacks);

  async function failFrom(ip: string) {
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    return submitLogin(ua, page, uniqueEmail(), 'wrong password', from(ip));
  }

  it('keeps sign-in working on in-process limits, counts the fallback, and shares the limits again once Redis is back', async () => {
    const user = await server.buildUser();
    expect((await signIn(new UserAgent(server.issuer), rp, user)).tokens.id_token).toEqual(expect.any(String));
    expect(await fallbacks()).toBe(0);

    await redis.stop();
    const { tokens } = await signIn(new UserAgent(server.issuer), rp, user);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(await fallbacks()).toBeGreaterThan(0);

    // The limits still hold, counted in this process.
    const local = randomIp();
    for (let n = 0; n < PER_IP; n++) expect((await failFrom(local)).status).toBe(401);
    expect((await failFrom(local)).status).toBe(429);

    await redis.start();
    // The limiter's connection comes back within its reconnect delay (at most 2 s); until then
    // each request still falls back.
    const probe = randomIp();
    let settled = false;
    for (let tries = 0; tries < 40 && !settled; tries++) {
      const before = await fallbacks();
      await failFrom(probe).then((page) => expect([401, 429]).toContain(page.status));
      settled = (await fallbacks()) === before;
      if (!settled) await sleep(250);
    }
    expect(settled).toBe(true);

    // Counted in Redis again: a fresh address's counter is there for every replica to see.
    const shared = randomIp();
    expect((await failFrom(shared)).status).toBe(401);
    const inspector = new Redis(redis.url);
    try {
      expect(
        (await inspector.keys(`${server.gatehouse.config.storage.redisKeyPrefix}rl:rate:signInIp:*`)).length,
      ).toBeGreaterThan(0);
    } finally {
      inspector.disconnect();
    }
  });

  /** GET /readyz: status, body, and how long the answer took. */
  async function readyz() {
    const started = Date.now();
    const res = await fetch(`${server.issuer}/readyz`);
    return { status: res.status, body: (await res.json()) as unknown, ms: Date.now() - started };
  }
  const redisUp = async () =>
    (await server.gatehouse.metrics.registry.getSingleMetric('gatehouse_redis_up')?.get())?.values[0]?.value;
  /** The readiness notices (the limiter logs its own, about counters). */
  const redisNotices = () =>
    logged.filter((line) => line.msg.includes('degraded')).map((line) => line.msg.split(':')[0]);

  it('stays ready while Redis is down: /readyz answers 200 "degraded" at once, logs the change once, and the gauge reads 0; ready again when Redis returns', async () => {
    // The test before restarted Redis: the readiness check's own connection may still be
    // reconnecting (at most its 2 s delay; longer on a loaded machine). Start from ready.
    let before = await readyz();
    for (let tries = 0; tries < 40 && (before.body as { status?: string }).status !== 'ready'; tries++) {
      await sleep(250);
      before = await readyz();
    }
    expect(before).toMatchObject({ status: 200, body: { status: 'ready' } });
    const noticesBefore = redisNotices().length;

    await redis.stop();
    for (let probe = 0; probe < 3; probe++) {
      const answer = await readyz();
      expect(answer).toMatchObject({ status: 200, body: { status: 'degraded', redis: 'unavailable' } });
      // Generous: the old probe took up to 2.4 s per answer (ioredis's retries).
      expect(answer.ms).toBeLessThan(1000);
    }
    expect(await redisUp()).toBe(0);
    // One line for the change, not one per probe or scrape.
    expect(redisNotices().slice(noticesBefore)).toEqual(['Redis is not answering']);

    await redis.start();
    let answer = await readyz();
    for (let tries = 0; tries < 40 && answer.body && (answer.body as { status: string }).status !== 'ready'; tries++) {
      await sleep(250);
      answer = await readyz();
    }
    expect(answer).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(await redisUp()).toBe(1);
    expect(redisNotices().slice(noticesBefore)).toEqual(['Redis is not answering', 'Redis answers again']);
  });
});
