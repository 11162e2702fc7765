import { randomBytes } from 'node:crypto';
import { createMemoryStore, createRedisStore, type KeyValueStore } from '../../src/storage/key-value-store.js';
import { createSecretBox } from '../../src/security/secret-box.js';
import { createSecretHandoff } from '../../src/web/admin/secret-handoff.js';
import { REDIS_URL, freshRedisKeyPrefix } from '../helpers/backends.js';

/** The console's one-time secret page: taken once, by its session, for its client, within five minutes. */
describe('console secret handoff', () => {
  const box = createSecretBox(randomBytes(32));
  let now = Date.now();
  const memory = createMemoryStore(() => now);
  const redis = createRedisStore(REDIS_URL, freshRedisKeyPrefix());
  afterAll(async () => {
    await Promise.all([memory.close(), redis.close()]);
  });

  it.each([
    ['memory', memory],
    ['redis', redis],
  ] as Array<[string, KeyValueStore]>)('%s: gives the secret once, then nothing', async (_kind, kv) => {
    const handoff = createSecretHandoff(kv, box);
    const ticket = await handoff.put('session-a', { clientId: 'c1', clientSecret: 'the-secret' });
    expect(ticket).toMatch(/^[\w-]{22}$/);
    expect(await handoff.take('session-b', ticket, 'c1')).toBeUndefined();
    expect(await handoff.take('session-a', ticket, 'c1')).toBe('the-secret');
    expect(await handoff.take('session-a', ticket, 'c1')).toBeUndefined();
  });

  it('stores it sealed, not as text', async () => {
    const ticket = await createSecretHandoff(memory, box).put('s', {
      clientId: 'c1',
      clientSecret: 'plain-secret-value',
    });
    const stored = await memory.get(`console-secret:s:${ticket}`);
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain('plain-secret-value');
  });

  it("refuses another client's page, a malformed ticket, and anything after five minutes", async () => {
    const handoff = createSecretHandoff(memory, box);
    const other = await handoff.put('s', { clientId: 'c1', clientSecret: 'x' });
    expect(await handoff.take('s', other, 'c2')).toBeUndefined();
    expect(await handoff.take('s', 'not a ticket', 'c1')).toBeUndefined();
    const late = await handoff.put('s', { clientId: 'c1', clientSecret: 'y' });
    now += 301_000;
    expect(await handoff.take('s', late, 'c1')).toBeUndefined();
  });
});
