import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config/schema.js';
import { AppError } from '../http/errors.js';
import { requestOrigin } from '../http/request-origin.js';
import { formatWait } from '../i18n/duration.js';
import type { MessageParams } from '../i18n/catalogue.js';
import type { Metrics } from '../observability/metrics.js';
import type { AuditLog, RequestOrigin } from './audit.js';
import type { CounterStore } from './counters.js';

export type RatePolicy = keyof Config['rateLimits'];

/**
 * A request refused by a rate limit. The error handler answers 429 with Retry-After (RFC 6585
 * §4, RFC 9110 §10.2.3): an HTML page for browsers, `{ error: 'temporarily_unavailable' }` for
 * APIs and the token endpoint (docs/abuse-protection.md says why that code).
 */
export class RateLimitedError extends AppError {
  constructor(
    readonly policy: RatePolicy,
    readonly retryAfterSeconds: number,
  ) {
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
export const counterKey = (key: string): string =>
  createHash('sha256').update(key.trim().toLowerCase()).digest('base64url');

export interface RateLimits {
  /**
   * Counts one request against `policy` for `key` (the client IP when omitted) and throws
   * RateLimitedError past the limit. Call it before any costly or revealing work.
   */
  consume(ctx: Context, policy: RatePolicy, key?: string): Promise<void>;
  /**
   * `consume` for the domain, which knows no Koa context: the caller names the key and gives
   * the request's origin for the audit event of a first refusal.
   */
  take(origin: RequestOrigin, policy: RatePolicy, key: string): Promise<void>;
  /**
   * `consume` for a silent cap: false past the limit (refused, counted and audited as a
   * refusal), where the caller answers as always but leaves out the effect (a mail).
   */
  allows(ctx: Context, policy: RatePolicy, key?: string): Promise<boolean>;
  /**
   * For limits that count failures, not requests: throws RateLimitedError when `key` has
   * already failed `points` times in the window, without counting this request; `fail`
   * counts one failure once the outcome is known.
   */
  check(ctx: Context, policy: RatePolicy, key?: string): Promise<void>;
  fail(ctx: Context, policy: RatePolicy, key?: string): Promise<void>;
}

/**
 * The configured rate limits. The first refusal of a key in a window is audited
 * ('ratelimit.exceeded', not one event per refused request: an attacker must not be able to
 * flood the audit log); every refusal is counted in the metrics.
 */
export function createRateLimits(
  config: Config['rateLimits'],
  deps: { counters: CounterStore; audit: AuditLog; metrics: Metrics },
): RateLimits {
  const limiters = new Map<RatePolicy, RateLimiterAbstract>();
  for (const [policy, { points, durationSeconds }] of Object.entries(config) as [
    RatePolicy,
    Config['rateLimits'][RatePolicy],
  ][]) {
    limiters.set(policy, deps.counters.counter({ prefix: `rate:${policy}`, points, durationSeconds }));
  }
  const limiterOf = (policy: RatePolicy): RateLimiterAbstract => {
    const limiter = limiters.get(policy);
    if (!limiter) throw new Error(`unknown rate limit policy ${policy}`);
    return limiter;
  };

  /** A refusal: counted, audited when it is the first of its window, and thrown. */
  async function refuse(
    origin: RequestOrigin,
    policy: RatePolicy,
    limiter: RateLimiterAbstract,
    refusal: RateLimiterRes,
  ): Promise<never> {
    deps.metrics.rateLimitHits.inc({ policy });
    if (refusal.consumedPoints === limiter.points + 1) {
      await deps.audit.record(
        'ratelimit.exceeded',
        { details: { policy, limit: limiter.points, windowSeconds: limiter.duration } },
        origin,
      );
    }
    throw new RateLimitedError(policy, retryAfterOf(refusal));
  }

  const limits: RateLimits = {
    consume: (ctx, policy, key = ctx.ip) => limits.take(requestOrigin(ctx), policy, key),

    async take(origin, policy, key) {
      const limiter = limiterOf(policy);
      try {
        await limiter.consume(counterKey(key));
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        await refuse(origin, policy, limiter, refusal);
      }
    },

    async allows(ctx, policy, key) {
      try {
        await limits.consume(ctx, policy, key);
        return true;
      } catch (error) {
        if (error instanceof RateLimitedError) return false;
        throw error;
      }
    },

    async check(ctx, policy, key = ctx.ip) {
      const limiter = limiterOf(policy);
      const counted = await limiter.get(counterKey(key));
      if (!counted || counted.consumedPoints < limiter.points) return;
      // A refused request counts too (it cannot start a new window: the window is fixed), so
      // the first refusal is the one audited, as with consume.
      await refuse(requestOrigin(ctx), policy, limiter, await limiter.penalty(counterKey(key)));
    },

    async fail(ctx, policy, key = ctx.ip) {
      await limiterOf(policy).penalty(counterKey(key));
    },
  };
  return limits;
}
