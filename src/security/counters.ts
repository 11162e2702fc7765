import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Metrics } from '../observability/metrics.js';
import type { Config } from '../config/schema.js';
import { createLimiterRedis } from '../storage/limiter-redis.js';

interface CounterOptions {
  /** Names the counters in Redis (`<storage.redisKeyPrefix>rl:<prefix>:<key>`). */
  prefix: string;
  points: number;
  durationSeconds: number;
}

/**
 * Where rate limits and lockouts keep their counters: Redis, shared by every replica, with
 * in-process counters standing in while Redis does not answer (rate-limiter-flexible's
 * insuranceLimiter); or in-process only in the embedded default (a single node).
 */
export interface CounterStore {
  readonly kind: 'redis' | 'memory';
  counter(options: CounterOptions): RateLimiterAbstract;
  /**
   * Resolves once the Redis connection is up, or after a short wait when it is not: requests
   * before that would fall back (and warn of an outage) only because the connection was new.
   */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const BOOT_WAIT_MS = 2000;

/**
 * RateLimiterMemory expires keys with setTimeout, which fires at once for a delay over
 * 2^31-1 ms (24.8 days): a 30-day trusted address would be forgotten immediately. In process,
 * longer durations are cut to that (documented in docs/abuse-protection.md).
 */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
const inProcessSeconds = (seconds: number) => Math.min(seconds, MAX_TIMER_SECONDS);

class InProcessCounter extends RateLimiterMemory {
  constructor(options: { keyPrefix: string; points: number; duration: number }) {
    super({ ...options, duration: inProcessSeconds(options.duration) });
  }
  override set(
    key: string | number,
    points: number,
    secDuration: number,
    options?: Parameters<RateLimiterMemory['set']>[3],
  ) {
    return super.set(key, points, inProcessSeconds(secDuration), options);
  }
}

/**
 * The in-process stand-in for one Redis counter. rate-limiter-flexible calls it only when
 * Redis failed, so each call is one fallback: counted, and logged once per outage by `noticed`.
 */
class FallbackCounter extends InProcessCounter {
  constructor(
    options: ConstructorParameters<typeof InProcessCounter>[0],
    private readonly noticed: () => void,
  ) {
    super(options);
  }
  override consume(...args: Parameters<RateLimiterMemory['consume']>) {
    this.noticed();
    return super.consume(...args);
  }
  override penalty(...args: Parameters<RateLimiterMemory['penalty']>) {
    this.noticed();
    return super.penalty(...args);
  }
  override get(...args: Parameters<RateLimiterMemory['get']>) {
    this.noticed();
    return super.get(...args);
  }
  override set(...args: Parameters<InProcessCounter['set']>) {
    this.noticed();
    return super.set(...args);
  }
  override block(...args: Parameters<RateLimiterMemory['block']>) {
    this.noticed();
    return super.block(...args);
  }
  override delete(...args: Parameters<RateLimiterMemory['delete']>) {
    this.noticed();
    return super.delete(...args);
  }
}

export function createCounterStore(
  { redisUrl, redisKeyPrefix }: Pick<Config['storage'], 'redisUrl' | 'redisKeyPrefix'>,
  deps: { log: Logger; metrics: Metrics },
): CounterStore {
  if (!redisUrl) {
    return {
      kind: 'memory',
      counter: ({ prefix, points, durationSeconds }) =>
        new InProcessCounter({ keyPrefix: prefix, points, duration: durationSeconds }),
      async ready() {},
      async close() {},
    };
  }
  let outage = false;
  const noticed = () => {
    deps.metrics.limiterFallbacks.inc();
    if (outage) return;
    outage = true;
    deps.log.warn(
      'Redis is not answering: rate limits and lockouts use in-process counters on this replica until it returns',
    );
  };
  // One debug line per lost connection, not one per reconnect attempt (up to every 2 s).
  let connectionLost = false;
  const redis = createLimiterRedis(redisUrl, {
    onError: (error) => {
      if (connectionLost) return;
      connectionLost = true;
      deps.log.debug({ err: error }, 'limiter Redis connection error');
    },
    onReady: () => {
      connectionLost = false;
      if (!outage) return;
      outage = false;
      deps.log.info('Redis answers again: rate limits and lockouts are shared between replicas again');
    },
  });
  const connected = new Promise<void>((resolve) => {
    if (redis.status === 'ready') return resolve();
    redis.once('ready', () => resolve());
    setTimeout(resolve, BOOT_WAIT_MS).unref();
  });
  return {
    kind: 'redis',
    ready: () => connected,
    counter: ({ prefix, points, durationSeconds }) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${redisKeyPrefix}rl:${prefix}`,
        points,
        duration: durationSeconds,
        // Not ready (reconnecting) → the in-process counter at once, without trying Redis.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new FallbackCounter({ keyPrefix: prefix, points, duration: durationSeconds }, noticed),
      }),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
