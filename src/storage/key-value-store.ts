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
  /**
   * Why the connection is down: its last error (for /readyz and the log; never the URL's
   * credentials). Undefined while it is up, and while a first connection has not failed yet.
   */
  connectionProblem(): string | undefined;
  /** Hears each change of the connection: down (with the reason) and up again. */
  onConnectionChange(listener: (change: ConnectionChange) => void): void;
  /** What the banner names: "Redis at host:port" or "in-process store"; never credentials. */
  readonly description: string;
  close(): Promise<void>;
}

type ConnectionChange = { up: true } | { up: false; reason: string };

/** Reconnect delays: doubling from 200 ms, capped, so a Redis that is gone is not hammered. */
const RECONNECT_MAX_MS = 5000;
const reconnectDelay = (attempt: number): number => Math.min(200 * 2 ** Math.min(attempt - 1, 10), RECONNECT_MAX_MS);

/** host:port of a Redis URL, without user name or password: safe to print and log. */
function redisAddress(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '6379'}`;
}

/** An error message with the URL's user name and password taken out, should a driver repeat them. */
function redactedReason(error: Error, url: string): string {
  const { username, password } = new URL(url);
  let message = error.message || error.name;
  for (const secret of [password, decodeURIComponent(password), username, decodeURIComponent(username)]) {
    if (secret) message = message.split(secret).join('***');
  }
  return message;
}

export function createRedisStore(url: string, keyPrefix: string): KeyValueStore {
  const redis = new Redis(url, {
    keyPrefix,
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: reconnectDelay,
  });
  // Up until a failure says otherwise: at boot, only a failure is news worth a log line.
  let problem: string | undefined;
  let closing = false;
  const listeners: Array<(change: ConnectionChange) => void> = [];
  const changed = (change: ConnectionChange) => listeners.forEach((listener) => listener(change));
  const down = (reason: string) => {
    const wasUp = problem === undefined;
    problem = reason;
    if (wasUp && !closing) changed({ up: false, reason });
  };
  // Without an 'error' listener ioredis prints "[ioredis] Unhandled error event" on every
  // reconnect attempt (issue 15, item 14); here each failure only updates the reason.
  redis.on('error', (error: Error) => down(redactedReason(error, url)));
  // A lost connection: the error of the reconnect attempt that follows then says why.
  redis.on('close', () => {
    if (problem === undefined) down('connection closed');
  });
  redis.on('ready', () => {
    if (problem === undefined) return;
    problem = undefined;
    changed({ up: true });
  });
  return {
    kind: 'redis',
    description: `Redis at ${redisAddress(url)}`,
    connectionProblem: () => (redis.status === 'ready' ? undefined : problem),
    onConnectionChange: (listener) => {
      listeners.push(listener);
    },
    async increment(key, ttlSeconds) {
      const [[incrError, value], [expireError]] = (await redis
        .multi()
        .incr(key)
        .expire(key, ttlSeconds, 'NX')
        .exec()) as [[Error | null, number], [Error | null, number]];
      const failed = incrError ?? expireError;
      if (failed) throw failed;
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
      closing = true;
      // QUIT on a connection that is not up would wait in the offline queue for its retries.
      if (redis.status !== 'ready') return redis.disconnect();
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
    description: 'in-process store',
    connectionProblem: () => undefined,
    onConnectionChange: () => undefined,
    async close() {
      clearInterval(sweep);
      entries.clear();
    },
  };
}
