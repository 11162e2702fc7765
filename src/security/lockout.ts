import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../observability/metrics.js';
import type { CounterStore } from './counters.js';
import { counterKey, retryAfterOf } from './rate-limits.js';

/** Password failures and second-factor failures are counted apart. */
type LockoutFactor = 'password' | 'second_factor';

/** A wait imposed on an attempt: how long, and whether it holds for one address or the whole account. */
interface LockoutWait {
  retryAfterSeconds: number;
  scope: 'address' | 'account';
}

export interface LockoutStatus {
  /** Failures of the account (all addresses) still remembered. */
  failures: number;
  /** Seconds the account-wide wait still lasts; null when there is none. */
  lockedForSeconds: number | null;
}

/**
 * Exponential back-off after failed sign-ins (docs/abuse-protection.md, "Lockout").
 * `account` is what identifies the account being tried: the typed email for passwords (so an
 * unknown address backs off exactly like a known one), the user id for second factors.
 *
 * Two counts per factor: one per account and address, and one per account from all
 * addresses. The first stops one guesser after `freeFailures`; the second, with a higher
 * `accountFreeFailures`, stops a guesser spread over many addresses, but does not hold back
 * an address the account signed in from successfully lately: failures elsewhere cannot keep
 * the owner out. Each wait doubles with each further failure up to `maxDelaySeconds`, and
 * attempts during a wait are refused unchecked (they neither count nor reveal the password).
 */
export interface Lockout {
  /** The wait an attempt must respect, checked before the secret is; null when it may go ahead. */
  check(factor: LockoutFactor, account: string, ip: string): Promise<LockoutWait | null>;
  /** Counts a failure; returns the wait it started, if any (to answer, audit and count). */
  recordFailure(factor: LockoutFactor, account: string, ip: string): Promise<LockoutWait | null>;
  /** A success forgets the account's failures and trusts the address. */
  recordSuccess(factor: LockoutFactor, account: string, ip: string): Promise<void>;
  /** An admin's unlock: every count and wait of the account, for every address, is gone. */
  clear(factor: LockoutFactor, account: string): Promise<void>;
  status(factor: LockoutFactor, account: string): Promise<LockoutStatus>;
}

const MANY = 1_000_000_000;

export function createLockout(config: Config['lockout'], deps: { counters: CounterStore; metrics: Metrics }): Lockout {
  const { counters } = deps;
  const failures = counters.counter({
    prefix: 'lockout:failures',
    points: MANY,
    durationSeconds: config.failureMemorySeconds,
  });
  const waits = counters.counter({ prefix: 'lockout:waits', points: 1, durationSeconds: config.maxDelaySeconds });
  const trusted = counters.counter({
    prefix: 'lockout:trusted',
    points: 1,
    durationSeconds: Math.max(1, config.trustedIpDays * 86_400),
  });
  // Per-address keys cannot be listed to delete them; an unlock moves the account to a new
  // generation instead, which every per-address key names.
  const generations = counters.counter({
    prefix: 'lockout:generation',
    points: MANY,
    durationSeconds: config.failureMemorySeconds,
  });

  const delayAfter = (count: number, free: number) =>
    Math.min(config.baseDelaySeconds * 2 ** Math.min(count - free, 30), config.maxDelaySeconds);

  const accountKey = (factor: LockoutFactor, account: string) => `${factor}:${counterKey(account)}`;
  async function keys(factor: LockoutFactor, account: string, ip: string) {
    const whole = accountKey(factor, account);
    const generation = (await generations.get(whole))?.consumedPoints ?? 0;
    return { whole, address: `${whole}:${generation}:${counterKey(ip)}`, trust: `${whole}:${counterKey(ip)}` };
  }
  const waitOf = async (limiter: RateLimiterAbstract, key: string) => {
    const res = await limiter.get(key);
    return res && res.msBeforeNext > 0 ? retryAfterOf(res) : null;
  };

  return {
    async check(factor, account, ip) {
      const key = await keys(factor, account, ip);
      // Read together: one round trip instead of three.
      const [address, whole, trust] = await Promise.all([
        waitOf(waits, key.address),
        waitOf(waits, key.whole),
        config.trustedIpDays > 0 ? trusted.get(key.trust) : null,
      ]);
      if (address) return { retryAfterSeconds: address, scope: 'address' };
      if (whole && !trust) return { retryAfterSeconds: whole, scope: 'account' };
      return null;
    },

    async recordFailure(factor, account, ip) {
      const key = await keys(factor, account, ip);
      const fromAddress = (await failures.penalty(key.address)).consumedPoints;
      const overall = (await failures.penalty(key.whole)).consumedPoints;
      let started: LockoutWait | null = null;
      if (overall >= config.accountFreeFailures) {
        const seconds = delayAfter(overall, config.accountFreeFailures);
        await waits.set(key.whole, 1, seconds);
        started = { retryAfterSeconds: seconds, scope: 'account' };
      }
      if (fromAddress >= config.freeFailures) {
        const seconds = delayAfter(fromAddress, config.freeFailures);
        await waits.set(key.address, 1, seconds);
        if (!started || seconds > started.retryAfterSeconds) started = { retryAfterSeconds: seconds, scope: 'address' };
      }
      if (started) deps.metrics.lockouts.inc({ factor });
      return started;
    },

    async recordSuccess(factor, account, ip) {
      const key = await keys(factor, account, ip);
      await Promise.all([
        failures.delete(key.address),
        failures.delete(key.whole),
        waits.delete(key.address),
        waits.delete(key.whole),
      ]);
      if (config.trustedIpDays > 0) await trusted.set(key.trust, 1, config.trustedIpDays * 86_400);
    },

    async clear(factor, account) {
      const whole = accountKey(factor, account);
      await generations.penalty(whole);
      await Promise.all([failures.delete(whole), waits.delete(whole)]);
    },

    async status(factor, account) {
      const whole = accountKey(factor, account);
      return {
        failures: (await failures.get(whole))?.consumedPoints ?? 0,
        lockedForSeconds: await waitOf(waits, whole),
      };
    },
  };
}
