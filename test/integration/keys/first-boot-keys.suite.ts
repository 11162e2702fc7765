import { randomBytes } from 'node:crypto';
import { STORE_BACKENDS } from '../../helpers/backends.js';
import { openTestStorage } from '../../helpers/storage.js';
import { createKeyManager } from '../../../src/oidc/keys.js';
import { createSecretBox } from '../../../src/security/secret-box.js';
import type { KeyUse } from '../../../src/storage/entities/signing-key.entity.js';
import type { NewSigningKey } from '../../../src/storage/signing-keys.repository.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';

/**
 * Keys are made on the first boot only: later boots (every restart, every replica) find the
 * active ones and make none, because an RSA key costs a noticeable part of a start.
 */
describe.each(STORE_BACKENDS)('signing keys at boot (%s)', (backend) => {
  let storage: Awaited<ReturnType<typeof openTestStorage>>;
  beforeAll(async () => {
    storage = await openTestStorage(backend);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await storage?.dispose();
  });

  it('creates keys once; a second boot makes none and keeps the first ones', async () => {
    const keys = createKeyManager(storage.storage.signingKeys, createSecretBox(randomBytes(32)));
    expect(await keys.ensureKeys()).toBe(true);
    const first = (await storage.storage.signingKeys.listAll()).map((row) => row.id).sort();
    expect(first.length).toBeGreaterThanOrEqual(3);

    expect(await keys.ensureKeys()).toBe(false);
    expect((await storage.storage.signingKeys.listAll()).map((row) => row.id).sort()).toEqual(first);
  });

  it(
    'does not even make keys when active ones exist, and two racing first boots store one set',
    async () => {
      let made = 0;
      const fresh = (use: KeyUse, id: string) => async (): Promise<NewSigningKey[]> => {
        made += 1;
        return [{ id, use, alg: 'HS256', publicJwk: null, privateEncrypted: 'sealed elsewhere' }];
      };
      const repo = storage.storage.signingKeys;
      expect(await repo.insertIfNoneActive('cookie', fresh('cookie', 'never-stored'))).toBe(false);
      expect(made).toBe(0);

      const other = await openTestStorage(backend);
      try {
        const outcomes = await Promise.all([
          other.storage.signingKeys.insertIfNoneActive('cookie', fresh('cookie', 'racer-a')),
          other.storage.signingKeys.insertIfNoneActive('cookie', fresh('cookie', 'racer-b')),
        ]);
        expect(outcomes.filter(Boolean)).toHaveLength(1);
        expect(made).toBe(1);
        const stored = (await other.storage.signingKeys.listAll()).map((row) => row.id);
        expect(stored.filter((id) => id.startsWith('racer-'))).toHaveLength(1);
      } finally {
        await other.dispose();
      }
      // Opens a second store (an embedded database boot) inside the test.
    },
    BOOT_TIMEOUT,
  );
});
