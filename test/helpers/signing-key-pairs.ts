import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { generateSigningKeyPair, type SigningKeyPairs } from '../../src/oidc/keys.js';

/**
 * RSA private JWKs made beforehand for test servers (docs/decisions.md, "Test suite"): every
 * test server made an RSA key at its first boot, ~0.1–0.25 s of CPU each, ~200 a run. Made
 * with jose: `exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)`.
 */
const POOL = JSON.parse(readFileSync(join(process.cwd(), 'test/fixtures/rsa-signing-keys.json'), 'utf8')) as JWK[];
const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi']);
let handedOut = 0;

/**
 * The next RSA key of the pool, never the same one twice in a test file (a rotation must get a
 * key it has not seen; jest loads this module afresh for each file); generated once the pool is
 * used up, and for EC keys, which take well under a millisecond. The keys made in production
 * are proved by the suites that call createKeyManager without this (test/integration/keys/)
 * and by the built servers of the system tests.
 */
export const pooledSigningKeyPairs: SigningKeyPairs = (alg) => {
  const privateJwk = alg === 'RS256' ? POOL[handedOut] : undefined;
  if (!privateJwk) return generateSigningKeyPair(alg);
  handedOut += 1;
  const publicJwk = Object.fromEntries(Object.entries(privateJwk).filter(([name]) => !PRIVATE_MEMBERS.has(name)));
  return Promise.resolve({ publicJwk, privateJwk: { ...privateJwk } });
};
