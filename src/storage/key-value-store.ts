import { Redis } from 'ioredis';

/**
 * Hot, expendable state shared by replicas: counters and one-time markers with a TTL.
 * Redis in production; an in-process twin in the embedded default (single node only).
 */
export interface KeyValueStore {
  readonly kind: 'redis' | 'memory';
  /** Adds one to a counter; the TTL starts with the first increment. Returns the new value. */
  increment(key: string, ttlSeconds: number): Promise<number>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Stores the value only when the key is absent; true when this call stored it. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Reads and deletes in one step: of concurrent takers only one gets the value (single use). */
  take(key: string): Promise<string | null>;
  ping(): Promise<boolean>;
  /**
   * Whether the connection is up right now, without a round trip: false while it reconnects,
   * when a command would wait in the offline queue for its retries (~2.4 s) before failing.
   */
  connected(): boolean;
  close(): Promise<void>;
}

export function createRedisStore(url: string, keyPrefix: string): KeyValueStore {
  const redis = new Redis(url, {
    keyPrefix,
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
  });
  return {
    kind: 'redis',
    async increment(key, ttlSeconds) {
      const [[incrError, value], [expireError]] = (await redis.multi()
        .incr(key)
        .expire(key, ttlSeconds, 'NX')
        .exec()) as [[Error | null, number], [Error | null, number]];
      if (incrError || expireError) throw incrError ?? expireError;
      return value;
    },
    get: (key) => redis.get(key),
    async set(key, value, ttlSeconds) {
      await redis.set(key, value, 'EX', ttlSeconds);
    },
    async setIfAbsent(key, value, ttlSeconds) {
      return (await redis.set(key, value, 'EX', ttlSeconds, 'NX')) === 'OK';
    },
    async delete(key) {
      await redis.del(key);
    },
    take: (key) => redis.getdel(key),
    async ping() {
      return (await redis.ping().catch(() => null)) === 'PONG';
    },
    connected: () => redis.status === 'ready',
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export function createMemoryStore(now: () => number = Date.now): KeyValueStore {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const sweep = setInterval(() => {
    for (const key of entries.keys()) live(key);
  }, 60_000);
  sweep.unref();
  return {
    kind: 'memory',
    async increment(key, ttlSeconds) {
      const entry = live(key);
      const value = (entry ? Number(entry.value) : 0) + 1;
      entries.set(key, { value: String(value), expiresAt: entry?.expiresAt ?? now() + ttlSeconds * 1000 });
      return value;
    },
    async get(key) {
      return live(key)?.value ?? null;
    },
    async set(key, value, ttlSeconds) {
      entries.set(key, { value, expiresAt: now() + ttlSeconds * 1000 });
    },
    async setIfAbsent(key, value, ttlSeconds) {
      if (live(key)) return false;
      entries.set(key, { value, expiresAt: now() + ttlSeconds * 1000 });
      return true;
    },
    async delete(key) {
      entries.delete(key);
    },
    async take(key) {
      const value = live(key)?.value ?? null;
      entries.delete(key);
      return value;
    },
    async ping() {
      return true;
    },
    connected: () => true,
    async close() {
      clearInterval(sweep);
      entries.clear();
    },
  };
}
