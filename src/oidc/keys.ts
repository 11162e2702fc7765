import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { z } from 'zod';
import { parseJsonAs } from '../typed-json.js';
import type { SecretBox } from '../security/secret-box.js';
import type { NewSigningKey, SigningKeysRepository } from '../storage/signing-keys.repository.js';
import type { SigningKeyRow } from '../storage/entities/signing-key.entity.js';

/** ES256 signs by default; RS256 is there for clients that ask for it. */
export const SIGNING_ALGS = ['ES256', 'RS256'] as const;

export interface KeyMaterial {
  /** Private JWKs, the one that signs first for each algorithm, then the others still published. */
  signingJwks: JWK[];
  /** Cookie-signing keys, the one that signs first (keygrip signs with the first). */
  cookieKeys: string[];
  /** When a published key that does not sign yet will sign (epoch ms): load again then. Null when none waits. */
  activatesAt: number | null;
}

type Ranked = Pick<SigningKeyRow, 'state' | 'createdAt'>;

/**
 * The order to hand keys to oidc-provider and keygrip, which sign with the first key of an
 * algorithm and verify with any. A key signs only once every replica can have loaded it:
 * `activationDelayMs` after its creation as the database stored it (`created_at`, the same
 * instant for every replica, whenever each one loaded it), a delay longer than the reload
 * interval (checked at boot, src/config/schema.ts). Until then it is published and verifies,
 * and the keys before it keep signing, so whatever one replica signs (token, session cookie,
 * interaction cookie) every replica accepts (OpenID Connect Core 1.0 §10.1.1: a verifier
 * meets a new kid only after it could fetch it).
 *
 * The one exception is the oldest key published of its kind (first boot): no replica serves
 * without it, since each loads the key set from the database before it listens, and a fresh
 * install must sign at once. It is not "not yet active": a key rotated in within the delay
 * after first boot must not outrank it (issue 14, finding 9). A retired key cannot hand that
 * exception to a younger one by expiring: it stays published for its tokens' lifetime plus the
 * delay after the rotation that retired it (admin/keys.service.ts), by which time the younger
 * one signs on its own account.
 *
 * Among the keys that may sign: active before retired, newest first; then the ones still
 * waiting, in the same order.
 */
export function signingOrder<T extends Ranked>(
  rows: T[],
  now: number,
  activationDelayMs: number,
): { ordered: T[]; activatesAt: number | null } {
  const oldest = Math.min(...rows.map((row) => row.createdAt.getTime()));
  const signsFrom = (row: T) =>
    row.createdAt.getTime() === oldest ? oldest : row.createdAt.getTime() + activationDelayMs;
  const rank = (row: T) => (signsFrom(row) > now ? 2 : 0) + (row.state === 'active' ? 0 : 1);
  const ordered = [...rows].sort((a, b) => rank(a) - rank(b) || b.createdAt.getTime() - a.createdAt.getTime());
  const waiting = rows.map(signsFrom).filter((at) => at > now);
  return { ordered, activatesAt: waiting.length > 0 ? Math.min(...waiting) : null };
}

/** Signing keys of each algorithm, each group in signing order. */
function orderSigningKeys(rows: SigningKeyRow[], now: number, activationDelayMs: number) {
  const groups = SIGNING_ALGS.map((alg) =>
    signingOrder(
      rows.filter((row) => row.alg === alg),
      now,
      activationDelayMs,
    ),
  );
  const others = rows.filter((row) => !(SIGNING_ALGS as readonly string[]).includes(row.alg));
  return groups.reduce(
    (all, group) => ({
      ordered: [...all.ordered, ...group.ordered],
      activatesAt: earliest(all.activatesAt, group.activatesAt),
    }),
    { ordered: others, activatesAt: null as number | null },
  );
}

const earliest = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.min(a, b);

/**
 * A decrypted private key as the provider needs it. The box authenticates what it opens, so
 * this fails only on a row written by something other than newSigningKey: loudly, at load.
 */
const privateJwkSchema = z.looseObject({
  kty: z.string(),
  kid: z.string(),
  alg: z.string(),
  use: z.literal('sig'),
  d: z.string(),
});
function privateJwkOf(row: SigningKeyRow, plain: string): JWK {
  const jwk = parseJsonAs(plain, privateJwkSchema);
  if (!jwk) throw new Error(`signing key ${row.id} does not hold a private JWK`);
  return jwk;
}

const context = (row: Pick<SigningKeyRow, 'id' | 'use'>) => `signing_keys:${row.use}:${row.id}`;

/** A new key pair for one algorithm, as JWKs (no kid, alg or use: newSigningKey adds them). */
export type SigningKeyPairs = (alg: (typeof SIGNING_ALGS)[number]) => Promise<{ publicJwk: JWK; privateJwk: JWK }>;

/** New key pairs from jose: an RSA key takes ~0.1–0.25 s of CPU, an EC key well under 1 ms. */
export const generateSigningKeyPair: SigningKeyPairs = async (alg) => {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
};

async function newSigningKey(
  alg: (typeof SIGNING_ALGS)[number],
  keyPairs: SigningKeyPairs,
): Promise<NewSigningKey & { plain: string }> {
  const pair = await keyPairs(alg);
  const kid = await calculateJwkThumbprint(pair.publicJwk);
  const privateJwk = { ...pair.privateJwk, kid, alg, use: 'sig' };
  return {
    id: kid,
    use: 'sig',
    alg,
    publicJwk: { ...pair.publicJwk, kid, alg, use: 'sig' },
    privateEncrypted: '',
    plain: JSON.stringify(privateJwk),
  };
}

function newCookieKey(): NewSigningKey & { plain: string } {
  const id = randomBytes(9).toString('base64url');
  return {
    id,
    use: 'cookie',
    alg: 'HS256',
    publicJwk: null,
    privateEncrypted: '',
    plain: randomBytes(32).toString('base64url'),
  };
}

/** How long a retired signing key stays published: as long as anything it signed can still be presented. */
export function retiredKeyTtlSeconds(ttl: { idToken: number; accessToken: number; clientCredentials: number }): number {
  return Math.max(ttl.idToken, ttl.accessToken, ttl.clientCredentials);
}

/** The sealed keys of one rotation, made before the transaction that stores them. */
export interface PreparedRotation {
  signing: NewSigningKey[];
  cookie: NewSigningKey;
}

export function createKeyManager(
  repo: SigningKeysRepository,
  box: SecretBox,
  keyPairs: SigningKeyPairs = generateSigningKeyPair,
) {
  const seal = (key: NewSigningKey & { plain: string }): NewSigningKey => {
    const { plain, ...rest } = key;
    return { ...rest, privateEncrypted: box.seal(plain, context(key)) };
  };
  const freshSigningKeys = async () =>
    Promise.all(SIGNING_ALGS.map(async (alg) => seal(await newSigningKey(alg, keyPairs))));

  return {
    /** First boot: one key per algorithm and a cookie key. Returns whether keys were created. */
    async ensureKeys(): Promise<boolean> {
      const sig = await repo.insertIfNoneActive('sig', freshSigningKeys);
      const cookie = await repo.insertIfNoneActive('cookie', async () => [seal(newCookieKey())]);
      return sig || cookie;
    },

    /**
     * The published keys in signing order (see signingOrder); a zero delay lets new keys sign at
     * once. Key ages are read on the database's clock, the one that stamped `created_at`, so
     * every replica reaches the same decision whatever its own clock says; `activatesAt` is
     * turned back into this process's clock for its reload timer. `now` (tests) replaces both.
     */
    async load(
      options: { activationDelaySeconds: number; now?: number } = { activationDelaySeconds: 0 },
    ): Promise<KeyMaterial> {
      const asked = Date.now();
      const [sigRows, cookieRows, databaseNow] = await Promise.all([
        repo.listPublished('sig'),
        repo.listPublished('cookie'),
        options.now ?? repo.databaseNow(),
      ]);
      const now = options.now ?? databaseNow;
      const skew = options.now === undefined ? databaseNow - asked : 0;
      const delayMs = options.activationDelaySeconds * 1000;
      const sig = orderSigningKeys(sigRows, now, delayMs);
      const cookie = signingOrder(cookieRows, now, delayMs);
      const activatesAt = earliest(sig.activatesAt, cookie.activatesAt);
      return {
        signingJwks: sig.ordered.map((row) => privateJwkOf(row, box.open(row.privateEncrypted, context(row)))),
        cookieKeys: cookie.ordered.map((row) => box.open(row.privateEncrypted, context(row))),
        activatesAt: activatesAt === null ? null : activatesAt - skew,
      };
    },

    /**
     * Makes the keys of a rotation: slow (an RSA key takes a quarter second), so callers do it
     * before they open the transaction that stores them. That transaction's start stamps
     * `created_at`, from which activation is timed, and other replicas can load the keys only
     * once it commits: the shorter that transaction, the less of the activation delay it uses.
     */
    async prepareRotation(): Promise<PreparedRotation> {
      return { signing: await freshSigningKeys(), cookie: seal(newCookieKey()) };
    },

    /**
     * Stores a prepared rotation: new signing keys (and a new cookie key) are published at once
     * and sign after the activation delay; the old ones stay published until what they signed
     * has expired: tokens for `tokenTtlSeconds`, cookies for `sessionTtlSeconds` (callers add
     * the delay, during which the old keys still sign).
     */
    async rotate(prepared: PreparedRotation, tokenTtlSeconds: number, sessionTtlSeconds: number): Promise<string[]> {
      const tokensUntil = new Date(Date.now() + tokenTtlSeconds * 1000);
      const sessionsUntil = new Date(Date.now() + sessionTtlSeconds * 1000);
      await repo.rotate([
        ...prepared.signing.map((key) => ({ ...key, retireOldUntil: tokensUntil })),
        { ...prepared.cookie, retireOldUntil: sessionsUntil },
      ]);
      return prepared.signing.map((k) => k.id);
    },

    fingerprint: () => repo.fingerprint(),
  };
}

export type KeyManager = ReturnType<typeof createKeyManager>;
