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
import { COUNT_LUA, CounterScript, scriptReply, type Counter, type CounterStore } from './counters.js';

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

/** Seconds until `ms` milliseconds have passed; at least 1 (Retry-After is whole seconds). */
export const secondsUntil = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** Seconds until a refused key may try again; at least 1. */
export const retryAfterOf = (res: RateLimiterRes): number => secondsUntil(res.msBeforeNext);

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
  /**
   * Several limits in turn, stopping at the first that refuses (a refused step leaves the ones
   * after it uncounted): each step is `consume` or, with `failuresOnly`, `check`. One round
   * trip to Redis instead of one per step.
   */
  inTurn(ctx: Context, steps: LimitStep[]): Promise<void>;
}

interface LimitStep {
  policy: RatePolicy;
  /** The client IP when omitted. */
  key?: string;
  /** A limit that counts failures: `check`, not `consume`. */
  failuresOnly?: boolean;
}

/**
 * `inTurn` on Redis: for each key in turn, `check` (a refusal counts, as its penalty does)
 * or `consume`; the answer is {0} when every step passed, or {step, consumed, ms} for the one
 * that refused. ARGV holds, per step, its mode, points and window.
 */
const IN_TURN = new CounterScript(`${COUNT_LUA}
for i, key in ipairs(KEYS) do
  local mode, points, seconds = ARGV[3 * i - 2], tonumber(ARGV[3 * i - 1]), ARGV[3 * i]
  if mode == 'check' then
    local seen = tonumber(redis.call('get', key))
    if seen and seen >= points then
      local counted = count(key, seconds)
      return {i, counted[1], counted[2]}
    end
  else
    local counted = count(key, seconds)
    if counted[1] > points then return {i, counted[1], counted[2]} end
  end
end
return {0}
`);

/** One consume on `limiter`: its refusal, or null. */
async function consumeOn(limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes | null> {
  try {
    await limiter.consume(key);
    return null;
  } catch (refusal) {
    if (!(refusal instanceof RateLimiterRes)) throw refusal;
    return refusal;
  }
}

/**
 * A limit on failures: refused, without counting, while `key` has failed `points` times. A
 * refused request counts too (it cannot start a new window: the window is fixed), so the first
 * refusal is the one audited, as with consume.
 */
async function checkOn(limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes | null> {
  const counted = await limiter.get(key);
  if (!counted || counted.consumedPoints < limiter.points) return null;
  return limiter.penalty(key);
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
  const limiters = new Map<RatePolicy, Counter>();
  for (const [policy, { points, durationSeconds }] of Object.entries(config) as [
    RatePolicy,
    Config['rateLimits'][RatePolicy],
  ][]) {
    limiters.set(policy, deps.counters.counter({ prefix: `rate:${policy}`, points, durationSeconds }));
  }
  const counterOf = (policy: RatePolicy): Counter => {
    const counter = limiters.get(policy);
    if (!counter) throw new Error(`unknown rate limit policy ${policy}`);
    return counter;
  };
  const limiterOf = (policy: RatePolicy): RateLimiterAbstract => counterOf(policy).limiter;

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
      const refusal = await consumeOn(limiter, counterKey(key));
      if (refusal) await refuse(origin, policy, limiter, refusal);
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
      const refusal = await checkOn(limiter, counterKey(key));
      if (refusal) await refuse(requestOrigin(ctx), policy, limiter, refusal);
    },

    async fail(ctx, policy, key = ctx.ip) {
      await limiterOf(policy).penalty(counterKey(key));
    },

    async inTurn(ctx, steps) {
      const planned = steps.map(({ policy, key = ctx.ip, failuresOnly = false }) => ({
        policy,
        counter: counterOf(policy),
        key: counterKey(key),
        failuresOnly,
      }));
      const refused = await deps.counters.batch(
        {
          script: IN_TURN,
          keys: planned.map((step) => step.counter.redisKey(step.key)),
          args: planned.flatMap((step) => [
            step.failuresOnly ? 'check' : 'consume',
            step.counter.points,
            step.counter.durationSeconds,
          ]),
          reply(answer) {
            const [index = 0, consumed = 0, ms = 0] = scriptReply(answer).map(Number);
            const step = planned[index - 1];
            if (!step) return null;
            // What rate-limiter-flexible makes of the same answer (RateLimiterRedis._getRateLimiterRes).
            const res = new RateLimiterRes(Math.max(step.counter.points - consumed, 0), ms, consumed, consumed === 1);
            return { step, res };
          },
        },
        async () => {
          for (const step of planned) {
            const { inProcess } = step.counter;
            const res = step.failuresOnly ? await checkOn(inProcess, step.key) : await consumeOn(inProcess, step.key);
            if (res) return { step, res };
          }
          return null;
        },
      );
      if (refused) await refuse(requestOrigin(ctx), refused.step.policy, refused.step.counter.limiter, refused.res);
    },
  };
  return limits;
}
