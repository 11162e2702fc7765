import { createHash } from 'node:crypto';

/**
 * An initial access token's public reference, stored beside it: the row is keyed by a digest
 * the reference cannot be made from. Here, not in oidc/initial-access-tokens.ts, because the
 * token-digests migration backfills this field and storage (with the migrations it runs)
 * imports no provider glue. oidc-provider ignores payload keys it does not know.
 */
export const REFERENCE_FIELD = 'gatehouse_ref';

/**
 * A token is named by the first 16 hex digits (64 bits) of its SHA-256: enough to tell tokens
 * apart, useless to register with. The registration audit names the token it presented this way.
 */
export function referenceOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 16);
}
