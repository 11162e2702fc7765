import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../observability/metrics.js';
import { COUNT_LUA, CounterScript, scriptReply, type Counter, type CounterStore } from './counters.js';
import { counterKey, retryAfterOf, secondsUntil } from './rate-limits.js';

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

/*
 * One script per step of a sign-in, each a single round trip to Redis. A per-address key names
 * the account's generation, which is read in the script itself: ARGV carries such a key as the
 * part before the generation and the part after it. Those keys are not in KEYS, which a
 * standalone Redis (all the limiter connects to) allows and a Redis Cluster would not.
 */

/** `check`: the milliseconds left of the address's and the account's waits, and whether the address is trusted. */
const CHECK = new CounterScript(`
local generation = redis.call('get', KEYS[1]) or '0'
return {redis.call('pttl', ARGV[1] .. generation .. ARGV[2]), redis.call('pttl', KEYS[2]), redis.call('exists', KEYS[3])}
`);

/** `recordFailure`'s counts: one more failure from the address and for the account; the generation they were counted in. */
const FAIL = new CounterScript(`${COUNT_LUA}
local generation = redis.call('get', KEYS[1]) or '0'
return {count(ARGV[1] .. generation .. ARGV[2], ARGV[3])[1], count(KEYS[2], ARGV[3])[1], generation}
`);

/** `recordSuccess`: the failures and waits gone (one DEL), and the address trusted for ARGV[4] seconds (none when 0). */
const SUCCEED = new CounterScript(`
local generation = redis.call('get', KEYS[1]) or '0'
redis.call('del', ARGV[1] .. generation .. ARGV[3], KEYS[2], ARGV[2] .. generation .. ARGV[3], KEYS[3])
if ARGV[4] ~= '0' then redis.call('set', KEYS[4], 1, 'EX', ARGV[4]) end
return 0
`);

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
  const trustedSeconds = config.trustedIpDays * 86_400;

  const delayAfter = (count: number, free: number) =>
    Math.min(config.baseDelaySeconds * 2 ** Math.min(count - free, 30), config.maxDelaySeconds);

  const accountKey = (factor: LockoutFactor, account: string) => `${factor}:${counterKey(account)}`;
  function keysOf(factor: LockoutFactor, account: string, ip: string) {
    const whole = accountKey(factor, account);
    const address = counterKey(ip);
    return {
      whole,
      /** The per-address key in `generation`. */
      address: (generation: number | string) => `${whole}:${generation}:${address}`,
      trust: `${whole}:${address}`,
      /** A script names a per-address key of `counter` as `addressBefore(counter)`, the generation, `addressAfter`. */
      addressBefore: (counter: Counter) => counter.redisKey(`${whole}:`),
      addressAfter: `:${address}`,
    };
  }
  /** In process, the generation is read first, as the scripts do in Redis. */
  const generationInProcess = async (whole: string) => (await generations.inProcess.get(whole))?.consumedPoints ?? 0;
  const waitOf = async (limiter: RateLimiterAbstract, key: string) => {
    const res = await limiter.get(key);
    return res && res.msBeforeNext > 0 ? retryAfterOf(res) : null;
  };
  /** A wait read in Redis as PTTL: none when the key is absent (-2) or has no expiry (-1). */
  const waitFromPttl = (ms: number) => (ms > 0 ? secondsUntil(ms) : null);

  return {
    async check(factor, account, ip) {
      const key = keysOf(factor, account, ip);
      const seen = await counters.batch(
        {
          script: CHECK,
          keys: [generations.redisKey(key.whole), waits.redisKey(key.whole), trusted.redisKey(key.trust)],
          args: [key.addressBefore(waits), key.addressAfter],
          reply(answer) {
            const [address = -2, whole = -2, trust = 0] = scriptReply(answer).map(Number);
            return { address: waitFromPttl(address), whole: waitFromPttl(whole), trusted: trust === 1 };
          },
        },
        async () => {
          const address = key.address(await generationInProcess(key.whole));
          const [addressWait, wholeWait, trust] = await Promise.all([
            waitOf(waits.inProcess, address),
            waitOf(waits.inProcess, key.whole),
            config.trustedIpDays > 0 ? trusted.inProcess.get(key.trust) : null,
          ]);
          return { address: addressWait, whole: wholeWait, trusted: trust !== null };
        },
      );
      if (seen.address) return { retryAfterSeconds: seen.address, scope: 'address' };
      // A trusted mark left from when trustedIpDays was more than 0 trusts nothing now.
      if (seen.whole && !(seen.trusted && config.trustedIpDays > 0)) {
        return { retryAfterSeconds: seen.whole, scope: 'account' };
      }
      return null;
    },

    async recordFailure(factor, account, ip) {
      const key = keysOf(factor, account, ip);
      const counted = await counters.batch(
        {
          script: FAIL,
          keys: [generations.redisKey(key.whole), failures.redisKey(key.whole)],
          args: [key.addressBefore(failures), key.addressAfter, failures.durationSeconds],
          reply(answer) {
            const [fromAddress, overall, generation] = scriptReply(answer);
            return {
              fromAddress: Number(fromAddress),
              overall: Number(overall),
              address: key.address(String(generation)),
            };
          },
        },
        async () => {
          const address = key.address(await generationInProcess(key.whole));
          const fromAddress = (await failures.inProcess.penalty(address)).consumedPoints;
          const overall = (await failures.inProcess.penalty(key.whole)).consumedPoints;
          return { fromAddress, overall, address };
        },
      );
      const { fromAddress, overall } = counted;
      let started: LockoutWait | null = null;
      const starting: Array<Promise<unknown>> = [];
      if (overall >= config.accountFreeFailures) {
        const seconds = delayAfter(overall, config.accountFreeFailures);
        starting.push(waits.limiter.set(key.whole, 1, seconds));
        started = { retryAfterSeconds: seconds, scope: 'account' };
      }
      if (fromAddress >= config.freeFailures) {
        const seconds = delayAfter(fromAddress, config.freeFailures);
        starting.push(waits.limiter.set(counted.address, 1, seconds));
        if (!started || seconds > started.retryAfterSeconds) started = { retryAfterSeconds: seconds, scope: 'address' };
      }
      // Different keys: set side by side, not one after the other (rare: only when a wait starts).
      await Promise.all(starting);
      if (started) deps.metrics.lockouts.inc({ factor });
      return started;
    },

    async recordSuccess(factor, account, ip) {
      const key = keysOf(factor, account, ip);
      await counters.batch(
        {
          script: SUCCEED,
          keys: [
            generations.redisKey(key.whole),
            failures.redisKey(key.whole),
            waits.redisKey(key.whole),
            trusted.redisKey(key.trust),
          ],
          args: [key.addressBefore(failures), key.addressBefore(waits), key.addressAfter, trustedSeconds],
          reply: () => undefined,
        },
        async () => {
          const address = key.address(await generationInProcess(key.whole));
          await Promise.all([
            failures.inProcess.delete(address),
            failures.inProcess.delete(key.whole),
            waits.inProcess.delete(address),
            waits.inProcess.delete(key.whole),
          ]);
          if (trustedSeconds > 0) await trusted.inProcess.set(key.trust, 1, trustedSeconds);
        },
      );
    },

    async clear(factor, account) {
      const whole = accountKey(factor, account);
      await generations.limiter.penalty(whole);
      await Promise.all([failures.limiter.delete(whole), waits.limiter.delete(whole)]);
    },

    async status(factor, account) {
      const whole = accountKey(factor, account);
      return {
        failures: (await failures.limiter.get(whole))?.consumedPoints ?? 0,
        lockedForSeconds: await waitOf(waits.limiter, whole),
      };
    },
  };
}
