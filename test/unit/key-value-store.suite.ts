import { randomBytes } from 'node:crypto';
import { createMemoryStore, createRedisStore, type KeyValueStore } from '../../src/storage/key-value-store.js';
import { REDIS_URL, freshRedisKeyPrefix } from '../helpers/backends.js';
import { testClock } from '../helpers/clock.js';

/** One contract for both stores: Redis (real server) and the in-process twin. */
/** The in-process store takes a clock, moved on instead of waiting; Redis expires keys on its own clock. */
const memoryClock = testClock();
const waitFor: Record<string, (ms: number) => Promise<void>> = {
  memory: async (ms) => {
    memoryClock.advance(ms);
  },
  redis: (ms) => new Promise((r) => setTimeout(r, ms)),
};

describe.each([
  ['memory', () => createMemoryStore(memoryClock.now)],
  ['redis', () => createRedisStore(REDIS_URL, freshRedisKeyPrefix())],
] as Array<[string, () => KeyValueStore]>)('key-value store: %s', (kind, make) => {
  let kv: KeyValueStore;
  const key = (name: string) => `test:${randomBytes(6).toString('hex')}:${name}`;
  const wait = (ms: number) => waitFor[kind]?.(ms);
  beforeAll(() => {
    kv = make();
  });
  afterAll(async () => {
    await kv.close();
  });

  it('counts and expires', async () => {
    const k = key('counter');
    expect(await kv.increment(k, 1)).toBe(1);
    expect(await kv.increment(k, 1)).toBe(2);
    expect(await kv.get(k)).toBe('2');
    await wait(1100);
    expect(await kv.get(k)).toBeNull();
  });

  it('sets only when absent', async () => {
    const k = key('once');
    expect(await kv.setIfAbsent(k, 'a', 10)).toBe(true);
    expect(await kv.setIfAbsent(k, 'b', 10)).toBe(false);
    expect(await kv.get(k)).toBe('a');
    await kv.delete(k);
    expect(await kv.get(k)).toBeNull();
  });

  it('takes a value once', async () => {
    const k = key('take');
    await kv.set(k, 'challenge', 10);
    const taken = await Promise.all([kv.take(k), kv.take(k), kv.take(k)]);
    expect(taken.filter((v) => v === 'challenge')).toHaveLength(1);
    expect(await kv.get(k)).toBeNull();
  });

  it('answers ping', async () => {
    expect(await kv.ping()).toBe(true);
  });
});
