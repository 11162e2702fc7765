import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { SecretBox } from '../security/secret-box.js';
import type { NewSigningKey, SigningKeysRepository } from '../storage/signing-keys.repository.js';
import type { SigningKeyRow } from '../storage/entities/signing-key.entity.js';

/** ES256 signs by default; RS256 is there for clients that ask for it. */
export const SIGNING_ALGS = ['ES256', 'RS256'] as const;

export interface KeyMaterial {
  /** Private JWKs, active first, then retired ones still inside their verification window. */
  signingJwks: JWK[];
  /** Cookie-signing keys, the active one first (oidc-provider signs with the first). */
  cookieKeys: string[];
}

const context = (row: Pick<SigningKeyRow, 'id' | 'use'>) => `signing_keys:${row.use}:${row.id}`;

async function newSigningKey(alg: (typeof SIGNING_ALGS)[number]): Promise<NewSigningKey & { plain: string }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  return { id: kid, use: 'sig', alg, publicJwk: { ...publicJwk, kid, alg, use: 'sig' }, privateEncrypted: '', plain: JSON.stringify(privateJwk) };
}

function newCookieKey(): NewSigningKey & { plain: string } {
  const id = randomBytes(9).toString('base64url');
  return { id, use: 'cookie', alg: 'HS256', publicJwk: null, privateEncrypted: '', plain: randomBytes(32).toString('base64url') };
}

/** How long a retired signing key stays published: as long as anything it signed can still be presented. */
export function retiredKeyTtlSeconds(ttl: { idToken: number; accessToken: number; clientCredentials: number }): number {
  return Math.max(ttl.idToken, ttl.accessToken, ttl.clientCredentials);
}

export function createKeyManager(repo: SigningKeysRepository, box: SecretBox) {
  const seal = (key: NewSigningKey & { plain: string }): NewSigningKey => {
    const { plain, ...rest } = key;
    return { ...rest, privateEncrypted: box.seal(plain, context(key)) };
  };
  const freshSigningKeys = async () => Promise.all(SIGNING_ALGS.map(async (alg) => seal(await newSigningKey(alg))));

  return {
    /** First boot: one key per algorithm and a cookie key. Returns whether keys were created. */
    async ensureKeys(): Promise<boolean> {
      const sig = await repo.insertIfNoneActive('sig', await freshSigningKeys());
      const cookie = await repo.insertIfNoneActive('cookie', [seal(newCookieKey())]);
      return sig || cookie;
    },

    async load(): Promise<KeyMaterial> {
      const [sig, cookie] = await Promise.all([repo.listPublished('sig'), repo.listPublished('cookie')]);
      return {
        signingJwks: sig.map((row) => JSON.parse(box.open(row.privateEncrypted, context(row))) as JWK),
        cookieKeys: cookie.map((row) => box.open(row.privateEncrypted, context(row))),
      };
    },

    /**
     * New signing keys (and a new cookie key) become active at once; the old ones stay
     * published until what they signed has expired: tokens for `tokenTtlSeconds`, cookies
     * for `sessionTtlSeconds`.
     */
    async rotate(tokenTtlSeconds: number, sessionTtlSeconds: number): Promise<string[]> {
      const sig = await freshSigningKeys();
      const tokensUntil = new Date(Date.now() + tokenTtlSeconds * 1000);
      const sessionsUntil = new Date(Date.now() + sessionTtlSeconds * 1000);
      await repo.rotate([
        ...sig.map((key) => ({ ...key, retireOldUntil: tokensUntil })),
        { ...seal(newCookieKey()), retireOldUntil: sessionsUntil },
      ]);
      return sig.map((k) => k.id);
    },

    fingerprint: () => repo.fingerprint(),
  };
}

export type KeyManager = ReturnType<typeof createKeyManager>;
