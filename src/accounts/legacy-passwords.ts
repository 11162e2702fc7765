import { pbkdf2, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';

/**
 * Password hashes brought over from another system (docs/import.md gives each format
 * exactly). They are accepted at import, verified at sign-in with their own algorithm, and
 * replaced by an argon2id hash of the current parameters as soon as one sign-in succeeds.
 *
 * No function here logs, throws or returns a hash or any part of it: messages name the
 * problem only (an import file's errors are printed and may be kept).
 */
export type HashScheme = 'argon2id' | 'argon2i' | 'bcrypt' | 'pbkdf2_sha256' | 'scrypt';

/**
 * Cost ceilings: an imported hash is verified at every sign-in attempt until it is replaced,
 * so absurd parameters would make each attempt a memory or CPU exhaustion. Above these the
 * import is refused; the costs of real deployments sit well below them.
 */
const LEGACY_LIMITS = {
  argon2: { maxMemoryKiB: 262_144, maxTimeCost: 32, maxParallelism: 16 },
  // bcryptjs is pure JavaScript: cost 12 takes about 0.4 s, each step doubles it.
  bcrypt: { minCost: 4, maxCost: 15 },
  pbkdf2: { maxIterations: 10_000_000 },
  // 128·N·r bytes of memory per verification (RFC 7914 §2).
  scrypt: { maxMemoryBytes: 256 * 1024 * 1024, maxParallelism: 16 },
} as const;

type Parsed =
  | { scheme: 'argon2id' | 'argon2i' | 'bcrypt' }
  | { scheme: 'pbkdf2_sha256'; iterations: number; salt: string; derived: Buffer }
  | { scheme: 'scrypt'; N: number; r: number; p: number; salt: Buffer; derived: Buffer };

export type HashCheck = { ok: true; scheme: HashScheme } | { ok: false; problem: string };

// PHC strings use the standard base64 alphabet without padding; passlib writes "." for "+".
const PHC_B64 = '[A-Za-z0-9+/.]+';
// The argon2 package decodes the standard alphabet only, and writes m, p, t where the
// reference implementation writes m, t, p: the three parameters are accepted in any order.
const ARGON2 =
  /^\$(argon2id|argon2i)\$(?:v=(16|19)\$)?([mtp]=\d{1,10},[mtp]=\d{1,10},[mtp]=\d{1,10})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
// Django: pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte key, padded>.
const DJANGO_PBKDF2 = /^pbkdf2_sha256\$(\d{1,9})\$([\x21-\x23\x25-\x7e]{1,128})\$([A-Za-z0-9+/]{43}=)$/;
const SCRYPT = new RegExp(`^\\$scrypt\\$ln=(\\d{1,2}),r=(\\d{1,3}),p=(\\d{1,3})\\$(${PHC_B64})\\$(${PHC_B64})$`);

/** Unpadded (PHC) base64, with passlib's "." accepted for "+"; null when malformed. */
function phcBase64(text: string): Buffer | null {
  if (text.length % 4 === 1) return null;
  return Buffer.from(text.replaceAll('.', '+'), 'base64');
}

function parse(hash: string): Parsed | string {
  if (hash.startsWith('$argon2')) {
    const m = ARGON2.exec(hash);
    if (!m) return 'not an argon2id/argon2i PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)';
    const params = new Map((m[3] ?? '').split(',').map((pair) => [pair[0], Number(pair.slice(2))] as const));
    if (params.size !== 3) return 'argon2 needs each of m, t and p once';
    const [memory, time, parallelism] = [params.get('m') ?? 0, params.get('t') ?? 0, params.get('p') ?? 0];
    const { maxMemoryKiB, maxTimeCost, maxParallelism } = LEGACY_LIMITS.argon2;
    if (parallelism < 1 || parallelism > maxParallelism) return `argon2 p must be 1 to ${maxParallelism}`;
    if (memory < 8 * parallelism || memory > maxMemoryKiB) return `argon2 m must be 8·p to ${maxMemoryKiB} KiB`;
    if (time < 1 || time > maxTimeCost) return `argon2 t must be 1 to ${maxTimeCost}`;
    const salt = phcBase64(m[4] ?? '');
    const derived = phcBase64(m[5] ?? '');
    if (!salt || salt.length < 8 || !derived || derived.length < 16)
      return 'argon2 salt or hash too short or malformed';
    return { scheme: m[1] === 'argon2id' ? 'argon2id' : 'argon2i' };
  }
  if (hash.startsWith('$2')) {
    const m = BCRYPT.exec(hash);
    if (!m) return 'not a bcrypt hash ($2a$, $2b$ or $2y$, cost, 53 characters)';
    const cost = Number(m[1]);
    const { minCost, maxCost } = LEGACY_LIMITS.bcrypt;
    if (cost < minCost || cost > maxCost) return `bcrypt cost must be ${minCost} to ${maxCost}`;
    return { scheme: 'bcrypt' };
  }
  if (hash.startsWith('pbkdf2_sha256$')) {
    const m = DJANGO_PBKDF2.exec(hash);
    if (!m) return 'not a Django pbkdf2_sha256$iterations$salt$hash string';
    const iterations = Number(m[1]);
    if (iterations < 1 || iterations > LEGACY_LIMITS.pbkdf2.maxIterations) {
      return `pbkdf2_sha256 iterations must be 1 to ${LEGACY_LIMITS.pbkdf2.maxIterations}`;
    }
    return { scheme: 'pbkdf2_sha256', iterations, salt: m[2] ?? '', derived: Buffer.from(m[3] ?? '', 'base64') };
  }
  if (hash.startsWith('$scrypt$')) {
    const m = SCRYPT.exec(hash);
    if (!m) return 'not a scrypt PHC string ($scrypt$ln=…,r=…,p=…$salt$hash)';
    const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (ln < 1 || ln > 24 || r < 1 || p < 1 || p > LEGACY_LIMITS.scrypt.maxParallelism)
      return 'scrypt ln, r or p out of range';
    const N = 2 ** ln;
    if (128 * N * r > LEGACY_LIMITS.scrypt.maxMemoryBytes)
      return `scrypt needs more than ${LEGACY_LIMITS.scrypt.maxMemoryBytes / 1024 / 1024} MiB (128·2^ln·r)`;
    const salt = phcBase64(m[4] ?? '');
    const derived = phcBase64(m[5] ?? '');
    if (!salt || salt.length < 1 || salt.length > 1024) return 'scrypt salt malformed';
    if (!derived || derived.length < 16 || derived.length > 128) return 'scrypt hash must be 16 to 128 bytes';
    return { scheme: 'scrypt', N, r, p, salt, derived };
  }
  return 'unknown hash format (accepted: argon2id, argon2i, bcrypt, Django pbkdf2_sha256, scrypt)';
}

/** Whether an import may carry this hash; the problem names no part of the hash. */
export function checkImportedHash(hash: string): HashCheck {
  const parsed = parse(hash);
  return typeof parsed === 'string' ? { ok: false, problem: parsed } : { ok: true, scheme: parsed.scheme };
}

function pbkdf2Async(password: string, salt: string, iterations: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, length, 'sha256', (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function scryptAsync(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/**
 * Verifies a password against any accepted hash (argon2id included). Unknown or malformed
 * hashes, and any error of the underlying library, verify as false.
 */
export async function verifyLegacyPassword(hash: string, password: string): Promise<boolean> {
  const parsed = parse(hash);
  if (typeof parsed === 'string') return false;
  try {
    switch (parsed.scheme) {
      case 'argon2id':
      case 'argon2i':
        return await argon2.verify(hash, password);
      case 'bcrypt':
        // bcrypt reads at most 72 bytes of the password, as the system that made the hash did.
        return await bcrypt.compare(password, hash);
      case 'pbkdf2_sha256': {
        // Django's PBKDF2PasswordHasher: the salt string's UTF-8 bytes, the key base64-encoded.
        const key = await pbkdf2Async(password, parsed.salt, parsed.iterations, parsed.derived.length);
        return timingSafeEqual(key, parsed.derived);
      }
      case 'scrypt': {
        const { N, r, p, salt, derived } = parsed;
        // node refuses when 128·N·r exceeds maxmem (32 MiB by default); allow what the limit allows.
        const key = await scryptAsync(password, salt, derived.length, {
          N,
          r,
          p,
          maxmem: 2 * 128 * N * r + 1024 * 1024,
        });
        return timingSafeEqual(key, derived);
      }
    }
  } catch {
    return false;
  }
}
