import { createHash, randomBytes } from 'node:crypto';
import type { Repositories } from '../storage/storage.js';
import type { AccountLinkPurpose, AccountLinkRow } from '../storage/entities/account-link.entity.js';

/**
 * The secret in a mailed link: 256 random bits, so a plain SHA-256 digest is a safe thing to
 * store (no guessing a preimage), and lookups by digest need no constant-time comparison.
 */
function newLinkToken(): string {
  return randomBytes(32).toString('base64url');
}

export function linkTokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A token as it may appear in a URL: anything else is refused before touching the database. */
function isWellFormedLinkToken(token: unknown): token is string {
  return typeof token === 'string' && /^[A-Za-z0-9_-]{43}$/.test(token);
}

/**
 * No user has this id. A path that issues no link (an unknown address, a taken one) revokes
 * "its" links instead, to do the same kind of database work as the path that issues one.
 */
export const NOBODY = '00000000-0000-0000-0000-000000000000';

/**
 * Single-use, expiring links for mail (verification, password reset). Issuing one retires the
 * user's earlier links of that purpose; using one is atomic. Both take the transaction's
 * repositories so the link and the change it belongs to commit together.
 */
export const accountLinks = {
  async issue(
    tx: Pick<Repositories, 'accountLinks'>,
    input: { userId: string; purpose: AccountLinkPurpose; ttlSeconds: number; data?: Record<string, string> },
  ): Promise<string> {
    const token = newLinkToken();
    await tx.accountLinks.replace({
      userId: input.userId,
      purpose: input.purpose,
      tokenDigest: linkTokenDigest(token),
      data: input.data ?? {},
      expiresAt: new Date(Date.now() + input.ttlSeconds * 1000),
    });
    return token;
  },

  /** The link's row when the token is valid for this purpose, now marked used; undefined otherwise. */
  async use(
    tx: Pick<Repositories, 'accountLinks'>,
    purpose: AccountLinkPurpose,
    token: unknown,
  ): Promise<AccountLinkRow | undefined> {
    if (!isWellFormedLinkToken(token)) return undefined;
    return tx.accountLinks.consume(purpose, linkTokenDigest(token));
  },

  /** Checks a link without using it: the page behind a link shows a form first, then acts on POST. */
  async check(
    tx: Pick<Repositories, 'accountLinks'>,
    purpose: AccountLinkPurpose,
    token: unknown,
  ): Promise<AccountLinkRow | undefined> {
    if (!isWellFormedLinkToken(token)) return undefined;
    return tx.accountLinks.peek(purpose, linkTokenDigest(token));
  },
};
