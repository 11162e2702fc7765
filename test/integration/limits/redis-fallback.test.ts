import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { BACKENDS } from '../../helpers/backends.js';
import { freePort, startTestServer, type TestServer } from '../../helpers/server.js';
import { BOOT_TIMEOUT, UserAgent, buildRp, openAuthorization, signIn, submitLogin, type TestRp } from '../../helpers/sessions.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { counterValue } from '../../../src/observability/metrics.js';
import { from, randomIp } from './support.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../../helpers/throwaway-redis.js';

const PER_IP = 3;

describe.each(BACKENDS)('limits while Redis is unavailable (%s, throwaway redis-server)', (backend) => {
  let server: TestServer;
  let rp: TestRp;
  let redis: ThrowawayRedis;
  beforeAll(async () => {
    redis = await startThrowawayRedis(await freePort());
    server = await startTestServer(backend, {
      http: { trustedProxyHops: 1 },
      storage: { redisUrl: redis.url },
      rateLimits: { signInIp: { points: PER_IP, durationSeconds: 600 } },
    });
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
      expect((await inspector.keys(`${server.gatehouse.config.storage.redisKeyPrefix}rl:rate:signInIp:*`)).length).toBeGreaterThan(0);
    } finally {
      inspector.disconnect();
    }
  });
});
