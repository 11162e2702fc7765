import { storableForm } from './storable-text.js';

/**
 * What the two repositories over `oidc_payloads` share: the adapter's store
 * (oidc-store.repository.ts) and the sessions and grants read model (sessions.repository.ts).
 */

export type StoredPayload = Record<string, unknown>;

export interface PayloadRecord {
  payload: StoredPayload;
  consumed_at: Date | null;
}

export function str(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

export function withConsumed(row: PayloadRecord | undefined): StoredPayload | undefined {
  if (!row) return undefined;
  if (!row.consumed_at) return row.payload;
  return { ...row.payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) };
}

export const LIVE = '(expires_at IS NULL OR expires_at > now())';

/**
 * Where a Session row keeps what we record about its use (ip, user agent, last seen). The
 * provider ignores payload keys it does not know (pickPayload, lib/models/base_model.js) and
 * rewrites the payload when it saves a session, so upsert carries this key over.
 */
export const SESSION_ACTIVITY = 'gatehouseActivity';

/**
 * PostgreSQL text and jsonb cannot hold U+0000 (errors 22021, 22P05). Such a key was never
 * stored, so a lookup by it finds nothing; a request parameter carrying one (state, nonce…),
 * or a lone surrogate, is stored with U+FFFD instead of failing the request with a 500
 * (requests are checked before this: storable-text.ts; this is the store's own guard).
 */
export const hasNul = (value: string) => value.includes('\u0000');
export const withoutNul = (_key: string, value: unknown) => (typeof value === 'string' ? storableForm(value) : value);
