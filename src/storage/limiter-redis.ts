import { Redis } from 'ioredis';

/**
 * The rate limiter's own Redis connection. The shared store (key-value-store.ts) queues
 * commands while Redis is down and retries them, so a call waits for Redis to return; a
 * limiter must answer at once instead and fall back to in-process counters. Here nothing
 * is queued while disconnected and a command that takes too long fails, so an outage costs
 * a request at most COMMAND_TIMEOUT_MS. ioredis keeps reconnecting in the background.
 */
const COMMAND_TIMEOUT_MS = 300;

export function createLimiterRedis(url: string, events: { onError(error: Error): void; onReady(): void }): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 1000,
    // Reconnect quickly and keep trying: the fallback is meant to be short-lived.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    // No enableAutoPipelining: a sign-in's limits and lockout are one script per step
    // (src/security/counters.ts, `batch`) and each step waits for the one before, so within a
    // request there is nothing to merge, and ioredis never pipelines MULTI (rate-limiter-flexible's
    // reads). Across requests it would delay every command to the next setImmediate and hold it
    // while an earlier pipeline is unanswered.
  });
  // Without a listener ioredis prints every connection error; the limiter logs an outage once.
  redis.on('error', events.onError);
  redis.on('ready', events.onReady);
  return redis;
}
