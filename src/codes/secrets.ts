import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** A code of `length` decimal digits, each uniform (crypto.randomInt draws without modulo bias). */
export function generateCode(length: number): string {
  let code = '';
  for (let i = 0; i < length; i++) code += String(randomInt(10));
  return code;
}

/** 256 random bits, base64url: a sign-in link's token or a browser-binding value. */
export const generateToken = (): string => randomBytes(32).toString('base64url');

/** What a person typed: spaces and dashes people add when reading a code out are ignored. */
const normalizeCode = (typed: string): string => typed.replace(/[\s-]/g, '');

/**
 * Keyed digests (HMAC-SHA-256, 43 base64url characters) of what codes and links are stored
 * under. Each kind of value has its own label, so one kind's digest never matches another's.
 * Keyed: a 6-digit code's plain hash would be reversed by trying a million values; without the
 * key (derived from the key-encryption secret) a copy of the table gives nothing to try them on.
 */
export interface CodeDigests {
  code(code: string): string;
  link(token: string): string;
  browser(binding: string): string;
  /** An email address or phone number, for voiding and limits, without keeping it in the row. */
  subject(value: string): string;
}

export function createCodeDigests(key: Buffer): CodeDigests {
  const mac = (label: string, value: string) =>
    createHmac('sha256', key).update(`${label}\0${value}`, 'utf8').digest('base64url');
  return {
    code: (code) => mac('code', normalizeCode(code)),
    link: (token) => mac('link', token),
    browser: (binding) => mac('browser', binding),
    subject: (value) => mac('subject', value.trim().toLowerCase()),
  };
}

/** Compares two digests in constant time (both are fixed-length base64url; a length mismatch is simply false). */
export function sameDigest(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
