import type { FoundWithRelated, StoredPayload } from '../storage/oidc-payload.repository.js';
import { requestMemo } from './request-memo.js';

type RelatedModel = 'Grant' | 'Session';

/**
 * The Grant and Session rows read in the statement that found a token
 * (findAmongWithRelated), kept for the rest of that provider request so that the provider's
 * next find of them (grant checks, expiresWithSession, the ID token's sid) needs no round
 * trip. Each is handed out once. A write through the adapter to either model drops this
 * request's rows of that model first, so a read after a write goes to the database, as does
 * every read in another request.
 */
export function relatedRows() {
  const memo = requestMemo<StoredPayload>();
  const key = (model: RelatedModel, value: string) => `${model}\u0000${value}`;
  return {
    remember({ grants, sessionsByUid }: FoundWithRelated): void {
      if (grants.size === 0 && sessionsByUid.size === 0) return;
      const rows = memo.of();
      if (!rows) return;
      for (const [id, payload] of grants) rows.set(key('Grant', id), payload);
      for (const [uid, payload] of sessionsByUid) rows.set(key('Session', uid), payload);
    },
    /** The row read with the token (Grant by id, Session by uid), once; undefined if none. */
    take(model: RelatedModel, value: string): StoredPayload | undefined {
      const rows = memo.of();
      const k = key(model, value);
      const payload = rows?.get(k);
      if (payload) rows?.delete(k);
      return payload;
    },
    /** Drops this request's rows of a model about to be written (any model name is accepted). */
    forget(model: string): void {
      const rows = memo.of();
      if (!rows || rows.size === 0) return;
      for (const k of [...rows.keys()]) if (k.startsWith(`${model}\u0000`)) rows.delete(k);
    },
    /** Drops everything this request kept (a grant revoked outside the adapter's own calls). */
    forgetAll(): void {
      memo.clear();
    },
  };
}

export type RelatedRows = ReturnType<typeof relatedRows>;
