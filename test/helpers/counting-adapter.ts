import type { Adapter } from 'oidc-provider';
import { createAdapter } from '../../src/oidc/adapter.js';
import type { OpenedStorage } from '../../src/storage/storage.js';
import type { TokenDigest } from '../../src/security/token-digest.js';
import type { OidcStoreRepository } from '../../src/storage/oidc-store.repository.js';
import type { Backend } from './backends.js';
import { openTestStorage } from './storage.js';
import { BOOT_TIMEOUT } from './sessions.js';

type Lookup = 'find' | 'findAmong' | 'findAmongWithRelated' | 'findByUid';

/**
 * The adapter over the real repository, counting the lookups it sends to the database
 * (each is one statement): `statements()` since the last `reset()`.
 */
function countingAdapter(storage: OpenedStorage['storage'], digest: TokenDigest) {
  const real = storage.oidc;
  let count = 0;
  // Runs once, between a lookup's answer and its return: a write "while the lookup was in flight".
  let afterNextLookup: (() => Promise<void>) | undefined;
  const counted =
    <A extends unknown[], R>(lookup: (...args: A) => Promise<R>) =>
    async (...args: A) => {
      count++;
      const answer = await lookup(...args);
      const hook = afterNextLookup;
      afterNextLookup = undefined;
      await hook?.();
      return answer;
    };
  const lookups: Lookup[] = ['find', 'findAmong', 'findAmongWithRelated', 'findByUid'];
  const counting: OidcStoreRepository = {
    ...real,
    ...Object.fromEntries(
      lookups.map((name) => [name, counted(real[name] as (...args: unknown[]) => Promise<unknown>)]),
    ),
  };
  const adapterFor: (model: string) => Adapter = createAdapter({ oidc: counting, digest, clients: storage.clients });
  return {
    adapterFor,
    statements: () => count,
    reset: () => {
      count = 0;
    },
    afterNextLookup: (hook: () => Promise<void>) => {
      afterNextLookup = hook;
    },
  };
}

/** A counting adapter on fresh storage of `backend`, opened before the suite and closed after it. */
export function countingAdapterSuite(backend: Backend) {
  let opened: Awaited<ReturnType<typeof openTestStorage>> | undefined;
  let counting: ReturnType<typeof countingAdapter> | undefined;
  beforeAll(async () => {
    opened = await openTestStorage(backend);
    counting = countingAdapter(opened.storage, opened.tokenDigest);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await opened?.dispose();
  });
  const ready = () => {
    if (!opened || !counting) throw new Error('the suite has not opened its storage yet');
    return { opened, counting };
  };
  return {
    adapterFor: (model: string): Adapter => ready().counting.adapterFor(model),
    statements: () => ready().counting.statements(),
    reset: () => ready().counting.reset(),
    afterNextLookup: (hook: () => Promise<void>) => ready().counting.afterNextLookup(hook),
    storage: () => ready().opened.storage,
  };
}
