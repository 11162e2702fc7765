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
 * algorithm and verify with any. A key younger than the activation delay is published and
 * verifies, but signs only when no older key of its kind is published (first boot): other
 * replicas load new keys within one reload interval, so with a delay at least that long,
 * whatever one replica signs (token, session cookie, interaction cookie) every replica accepts.
 * Then older before younger, active before retired, newest first.
 */
export function signingOrder<T extends Ranked>(rows: T[], now: number, activationDelayMs: number): { ordered: T[]; activatesAt: number | null } {
  const activation = (row: T) => row.createdAt.getTime() + activationDelayMs;
  const rank = (row: T) => (activation(row) > now ? 2 : 0) + (row.state === 'active' ? 0 : 1);
  const ordered = [...rows].sort((a, b) => rank(a) - rank(b) || b.createdAt.getTime() - a.createdAt.getTime());
  const waiting = rows.map(activation).filter((at) => at > now);
  return { ordered, activatesAt: waiting.length > 0 ? Math.min(...waiting) : null };
}

/** Signing keys of each algorithm, each group in signing order. */
function orderSigningKeys(rows: SigningKeyRow[], now: number, activationDelayMs: number) {
  const groups = SIGNING_ALGS.map((alg) => signingOrder(rows.filter((row) => row.alg === alg), now, activationDelayMs));
  const others = rows.filter((row) => !(SIGNING_ALGS as readonly string[]).includes(row.alg));
  return groups.reduce((all, group) => ({
    ordered: [...all.ordered, ...group.ordered],
    activatesAt: earliest(all.activatesAt, group.activatesAt),
  }), { ordered: others, activatesAt: null as number | null });
}

const earliest = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

/**
 * A decrypted private key as the provider needs it. The box authenticates what it opens, so
 * this fails only on a row written by something other than newSigningKey: loudly, at load.
 */
const privateJwkSchema = z.looseObject({ kty: z.string(), kid: z.string(), alg: z.string(), use: z.literal('sig'), d: z.string() });
function privateJwkOf(row: SigningKeyRow, plain: string): JWK {
  const jwk = parseJsonAs(plain, privateJwkSchema);
  if (!jwk) throw new Error(`signing key ${row.id} does not hold a private JWK`);
  return jwk;
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
      const sig = await repo.insertIfNoneActive('sig', freshSigningKeys);
      const cookie = await repo.insertIfNoneActive('cookie', async () => [seal(newCookieKey())]);
      return sig || cookie;
    },

    /** The published keys in signing order (see signingOrder); a zero delay lets new keys sign at once. */
    async load(options: { activationDelaySeconds: number; now?: number } = { activationDelaySeconds: 0 }): Promise<KeyMaterial> {
      const now = options.now ?? Date.now();
      const delayMs = options.activationDelaySeconds * 1000;
      const [sigRows, cookieRows] = await Promise.all([repo.listPublished('sig'), repo.listPublished('cookie')]);
      const sig = orderSigningKeys(sigRows, now, delayMs);
      const cookie = signingOrder(cookieRows, now, delayMs);
      return {
        signingJwks: sig.ordered.map((row) => privateJwkOf(row, box.open(row.privateEncrypted, context(row)))),
        cookieKeys: cookie.ordered.map((row) => box.open(row.privateEncrypted, context(row))),
        activatesAt: earliest(sig.activatesAt, cookie.activatesAt),
      };
    },

    /**
     * New signing keys (and a new cookie key) are published at once and sign after the
     * activation delay; the old ones stay published until what they signed has expired:
     * tokens for `tokenTtlSeconds`, cookies for `sessionTtlSeconds` (callers add the delay,
     * during which the old keys still sign).
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
