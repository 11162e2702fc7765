import { createHash } from 'node:crypto';
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

/** One named set of counters, as `CounterStore.counter` makes it. */
export interface Counter {
  readonly points: number;
  readonly durationSeconds: number;
  /** For one operation at a time: on Redis with the in-process counter standing in, or in process. */
  readonly limiter: RateLimiterAbstract;
  /**
   * The in-process counter: `limiter` itself in the embedded mode; on Redis, the one that stands
   * in for it (each use counted and logged as a fallback). `CounterStore.batch` uses it.
   */
  readonly inProcess: RateLimiterAbstract;
  /** The Redis key that holds `key`'s count, for scripts (`<storage.redisKeyPrefix>rl:<prefix>:<key>`). */
  redisKey(key: string): string;
}

/** A Lua script over counters, sent as EVALSHA (EVAL once when Redis does not know it yet). */
export class CounterScript {
  readonly sha: string;
  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }
}

/**
 * rate-limiter-flexible's count (RateLimiterRedis's incrTtlLuaScript, one point) as a Lua
 * function, for scripts that count several keys in one round trip. The same commands, so a key
 * reads the same whichever counted it (replicas of two versions share Redis during a rolling
 * deploy). `seconds` is at least 1, as every configured window is.
 */
export const COUNT_LUA = `
local function count(key, seconds)
  redis.call('set', key, 0, 'EX', seconds, 'NX')
  local consumed = redis.call('incrby', key, 1)
  local ttl = redis.call('pttl', key)
  if ttl == -1 then
    redis.call('expire', key, seconds)
    ttl = 1000 * seconds
  end
  return {consumed, ttl}
end
`;

/** A script's answer as the list of numbers and strings it returned. */
export function scriptReply(answer: unknown): Array<number | string> {
  if (!Array.isArray(answer) || !answer.every((v) => typeof v === 'number' || typeof v === 'string')) {
    throw new Error('unexpected answer from a counter script');
  }
  return answer as Array<number | string>;
}

/** What `CounterStore.batch` sends to Redis, and how it reads the answer. */
interface CounterBatch<R> {
  script: CounterScript;
  keys: string[];
  args: Array<string | number>;
  reply(answer: unknown): R;
}

/**
 * Where rate limits and lockouts keep their counters: Redis, shared by every replica, with
 * in-process counters standing in while Redis does not answer (rate-limiter-flexible's
 * insuranceLimiter); or in-process only in the embedded default (a single node).
 */
export interface CounterStore {
  readonly kind: 'redis' | 'memory';
  counter(options: CounterOptions): Counter;
  /**
   * Several counter operations in one round trip: `redis.script` on Redis. Where the counters
   * are in process (the embedded mode, or Redis not ready or failing, as a single operation
   * would fall back), `inProcess` instead, which does the same operations one by one on the
   * counters' `inProcess` side: the same outcome, and each one counted as a fallback.
   */
  batch<R>(redis: CounterBatch<R>, inProcess: () => Promise<R>): Promise<R>;
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
      counter: ({ prefix, points, durationSeconds }) => {
        const limiter = new InProcessCounter({ keyPrefix: prefix, points, duration: durationSeconds });
        return { points, durationSeconds, limiter, inProcess: limiter, redisKey: (key) => limiter.getKey(key) };
      },
      batch: (_redis, inProcess) => inProcess(),
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
  async function evaluate(script: CounterScript, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      // A Redis that restarted (or never ran it) has forgotten the script: send it once.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(script.lua, keys.length, ...keys, ...args);
    }
  }
  return {
    kind: 'redis',
    ready: () => connected,
    counter: ({ prefix, points, durationSeconds }) => {
      const inProcess = new FallbackCounter({ keyPrefix: prefix, points, duration: durationSeconds }, noticed);
      const limiter = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${redisKeyPrefix}rl:${prefix}`,
        points,
        duration: durationSeconds,
        // Not ready (reconnecting) → the in-process counter at once, without trying Redis.
        rejectIfRedisNotReady: true,
        insuranceLimiter: inProcess,
      });
      return { points, durationSeconds, limiter, inProcess, redisKey: (key) => limiter.getKey(key) };
    },
    async batch(batch, inProcess) {
      // As rejectIfRedisNotReady and the insurance limiter do for a single operation.
      if (redis.status !== 'ready') return inProcess();
      let answer: unknown;
      try {
        answer = await evaluate(batch.script, batch.keys, batch.args);
      } catch {
        return inProcess();
      }
      return batch.reply(answer);
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
