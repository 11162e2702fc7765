import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KeyEncryptionSecret {
  key: Buffer;
  /** Where it came from, for the boot message; never the value. */
  source: 'config' | 'generated' | 'file';
  path?: string;
}

const SECRET_FILE = 'key-encryption-secret';

/**
 * The configured secret, or the one in dataDir, generated on first boot with mode 0600.
 * A file that others can read is refused rather than silently used.
 */
export function loadKeyEncryptionSecret(configured: string, dataDir: string): KeyEncryptionSecret {
  if (configured) return { key: Buffer.from(configured, 'base64'), source: 'config' };
  const path = join(dataDir, SECRET_FILE);
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(`${path} is readable by others (mode ${mode.toString(8)}): chmod 600 it`);
    }
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${path} does not hold 32 base64-encoded bytes`);
    return { key, source: 'file', path };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return { key, source: 'generated', path };
}

/** A key for one purpose (CSRF tokens, recovery-code hashes), derived from the secret. */
export function deriveKey(secret: Buffer, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`gatehouse ${purpose}`).digest();
}
