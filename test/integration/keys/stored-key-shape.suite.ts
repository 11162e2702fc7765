import { randomBytes } from 'node:crypto';
import { STORE_BACKENDS } from '../../helpers/backends.js';
import { openTestStorage } from '../../helpers/storage.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';
import { createKeyManager } from '../../../src/oidc/keys.js';
import { createSecretBox } from '../../../src/security/secret-box.js';

/** What the key manager loads is checked to be a private signing JWK, not cast from the decrypted text. */
describe.each(STORE_BACKENDS)('loading stored signing keys (%s)', (backend) => {
  it(
    'loads private JWKs, and refuses by name a row that decrypts to something else',
    async () => {
      const storage = await openTestStorage(backend);
      try {
        const box = createSecretBox(randomBytes(32));
        const keys = createKeyManager(storage.storage.signingKeys, box);
        await keys.ensureKeys();
        const loaded = await keys.load();
        expect(loaded.signingJwks.length).toBeGreaterThanOrEqual(2);
        for (const jwk of loaded.signingJwks)
          expect(jwk).toEqual(
            expect.objectContaining({
              use: 'sig',
              d: expect.any(String) as unknown,
              kid: expect.any(String) as unknown,
            }),
          );

        // Sealed with the right secret and context, so only its content is wrong: a public key.
        const id = 'public-only';
        const publicOnly = { ...loaded.signingJwks[0], d: undefined };
        await storage.storage.signingKeys.rotate([
          {
            id,
            use: 'sig',
            alg: 'ES256',
            publicJwk: null,
            privateEncrypted: box.seal(JSON.stringify(publicOnly), `signing_keys:sig:${id}`),
            retireOldUntil: new Date(Date.now() + 60_000),
          },
        ]);
        await expect(keys.load()).rejects.toThrow(`signing key ${id} does not hold a private JWK`);
      } finally {
        await storage.dispose();
      }
      // Opens its own store (an embedded database boot) inside the test.
    },
    BOOT_TIMEOUT,
  );
});
