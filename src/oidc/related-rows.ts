import type { FoundWithRelated, StoredPayload } from '../storage/oidc-payload.repository.js';
import { requestMemo } from './request-memo.js';

/** The models whose rows one provider request reads more than once (by id; Session also by uid). */
export const REREAD_MODELS = new Set(['Grant', 'Interaction', 'Session']);

/**
 * Rows of REREAD_MODELS as this provider request last read them: the Grant and Session read
 * in the statement that found a token (findAmongWithRelated), and every find of those models.
 * The provider reads them again within the request (grant checks, expiresWithSession, the ID
 * token's sid; an interaction before and when it finishes), and those reads need no round
 * trip. A write through the adapter to a model drops this request's rows of it first, so a
 * read after a write goes to the database, as does every read in another request. Each read
 * gets its own copy: the provider changes the objects it is given.
 */
export function relatedRows() {
  const memo = requestMemo<StoredPayload>();
  // Writes per model in this request: a read that a write overtook is not kept.
  const writes = requestMemo<number>();
  const key = (model: string, by: 'id' | 'uid', value: string) => `${model}\u0000${by}\u0000${value}`;
  // What is kept has been handed to nobody; each handout gives that and keeps a copy of it.
  const put = (rows: Map<string, StoredPayload>, k: string, payload: StoredPayload) => rows.set(k, payload);
  return {
    remember({ grants, sessionsByUid }: FoundWithRelated): void {
      if (grants.size === 0 && sessionsByUid.size === 0) return;
      const rows = memo.of();
      if (!rows) return;
      for (const [id, payload] of grants) put(rows, key('Grant', 'id', id), payload);
      for (const [uid, payload] of sessionsByUid) put(rows, key('Session', 'uid', uid), payload);
    },
    /** How many writes to `model` this request has made: taken before a read, for keep(). */
    writesTo(model: string): number {
      return writes.of()?.get(model) ?? 0;
    },
    /**
     * Keeps a row this request just read, unless the request wrote the model since the read
     * began (`writesBefore`). Nothing is kept outside a request or for other models.
     */
    keep(model: string, by: 'id' | 'uid', value: string, payload: StoredPayload | undefined, writesBefore: number): void {
      if (!payload || !REREAD_MODELS.has(model) || this.writesTo(model) !== writesBefore) return;
      const rows = memo.of();
      // The read itself goes to the provider, which may change it: keep a copy.
      if (rows) put(rows, key(model, by, value), structuredClone(payload));
    },
    /** A copy of the row as this request last read it; undefined if it has not. */
    known(model: string, by: 'id' | 'uid', value: string): StoredPayload | undefined {
      if (!REREAD_MODELS.has(model)) return undefined;
      const rows = memo.of();
      const k = key(model, by, value);
      const payload = rows?.get(k);
      if (payload) rows?.set(k, structuredClone(payload));
      return payload;
    },
    /** Drops this request's rows of a model about to be written (any model name is accepted). */
    forget(model: string): void {
      const counts = writes.of();
      counts?.set(model, (counts.get(model) ?? 0) + 1);
      const rows = memo.of();
      if (!rows || rows.size === 0) return;
      for (const k of [...rows.keys()]) if (k.startsWith(`${model}\u0000`)) rows.delete(k);
    },
    /** Drops everything this request kept (a grant revoked outside the adapter's own calls). */
    forgetAll(): void {
      const counts = writes.of();
      for (const model of REREAD_MODELS) counts?.set(model, (counts.get(model) ?? 0) + 1);
      memo.clear();
    },
  };
}

export type RelatedRows = ReturnType<typeof relatedRows>;
