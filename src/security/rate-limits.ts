import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config/schema.js';
import { AppError } from '../http/errors.js';
import { requestOrigin } from '../http/request-origin.js';
import { formatWait } from '../i18n/duration.js';
import type { MessageParams } from '../i18n/catalogue.js';
import type { Metrics } from '../observability/metrics.js';
import type { AuditLog } from './audit.js';
import type { CounterStore } from './counters.js';

export type RatePolicy = keyof Config['rateLimits'];

/**
 * A request refused by a rate limit. The error handler answers 429 with Retry-After (RFC 6585
 * §4, RFC 9110 §10.2.3): an HTML page for browsers, `{ error: 'temporarily_unavailable' }` for
 * APIs and the token endpoint (docs/abuse-protection.md says why that code).
 */
export class RateLimitedError extends AppError {
  constructor(readonly policy: RatePolicy, readonly retryAfterSeconds: number) {
    super('temporarily_unavailable', 429, 'limits.tooManyRequests');
  }

  override headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfterSeconds) };
  }

  override messageParams(locale: string): MessageParams {
    return { wait: formatWait(this.retryAfterSeconds, locale) };
  }
}

/** Seconds until a refused key may try again; at least 1 (Retry-After is whole seconds). */
export const retryAfterOf = (res: RateLimiterRes): number => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

/** Keys are digests: the store holds no email addresses or IPs, and any key has one length. */
export const counterKey = (key: string): string => createHash('sha256').update(key.trim().toLowerCase()).digest('base64url');

export interface RateLimits {
  /**
   * Counts one request against `policy` for `key` (the client IP when omitted) and throws
   * RateLimitedError past the limit. Call it before any costly or revealing work.
   */
  consume(ctx: Context, policy: RatePolicy, key?: string): Promise<void>;
}

/**
 * The configured rate limits. The first refusal of a key in a window is audited
 * ('ratelimit.exceeded', not one event per refused request: an attacker must not be able to
 * flood the audit log); every refusal is counted in the metrics.
 */
export function createRateLimits(config: Config['rateLimits'], deps: { counters: CounterStore; audit: AuditLog; metrics: Metrics }): RateLimits {
  const limiters = new Map<RatePolicy, RateLimiterAbstract>();
  for (const [policy, { points, durationSeconds }] of Object.entries(config) as [RatePolicy, Config['rateLimits'][RatePolicy]][]) {
    limiters.set(policy, deps.counters.counter({ prefix: `rate:${policy}`, points, durationSeconds }));
  }
  return {
    async consume(ctx, policy, key = ctx.ip) {
      const limiter = limiters.get(policy);
      if (!limiter) throw new Error(`unknown rate limit policy ${policy}`);
      try {
        await limiter.consume(counterKey(key));
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        deps.metrics.rateLimitHits.inc({ policy });
        if (refusal.consumedPoints === limiter.points + 1) {
          await deps.audit.record('ratelimit.exceeded', { details: { policy, limit: limiter.points, windowSeconds: limiter.duration } }, requestOrigin(ctx));
        }
        throw new RateLimitedError(policy, retryAfterOf(refusal));
      }
    },
  };
}
