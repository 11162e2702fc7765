import type { FoundWithRelated } from '../storage/oidc-store.repository.js';
import type { StoredPayload } from '../storage/oidc-rows.js';
import { requestMemo } from './request-memo.js';

/** The models whose rows one provider request reads more than once (by id; Session also by uid). */
const REREAD_MODELS = new Set(['Grant', 'Interaction', 'Session']);

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
  const writesTo = (model: string): number => writes.of()?.get(model) ?? 0;
  /** Taken before a read: afterwards it says whether the request wrote the model meanwhile. */
  const writtenSince = (model: string): (() => boolean) => {
    const before = writesTo(model);
    return () => writesTo(model) !== before;
  };
  /** A copy of the row as this request last read it; undefined if it has not. */
  const known = (model: string, by: 'id' | 'uid', value: string): StoredPayload | undefined => {
    const rows = memo.of();
    const k = key(model, by, value);
    // What is kept has been handed to nobody: hand that out and keep a copy of it.
    const payload = rows?.get(k);
    if (payload) rows?.set(k, structuredClone(payload));
    return payload;
  };
  return {
    /**
     * Runs a token lookup that brings its Grant and Session along and keeps those rows, unless
     * the request wrote Grant or Session while the lookup ran (its rows may predate the write).
     */
    async remember(load: () => Promise<FoundWithRelated>): Promise<FoundWithRelated> {
      const grantWritten = writtenSince('Grant');
      const sessionWritten = writtenSince('Session');
      const found = await load();
      const rows = memo.of();
      if (!rows) return found;
      if (!grantWritten()) for (const [id, payload] of found.grants) rows.set(key('Grant', 'id', id), payload);
      if (!sessionWritten())
        for (const [uid, payload] of found.sessionsByUid) rows.set(key('Session', 'uid', uid), payload);
      return found;
    },
    /**
     * The row as this request last read it, or `load()`'s read, kept for the rest of the
     * request unless the request wrote the model while it ran. Nothing is kept outside a
     * request or for models not in REREAD_MODELS.
     */
    async read(
      model: string,
      by: 'id' | 'uid',
      value: string,
      load: () => Promise<StoredPayload | undefined>,
    ): Promise<StoredPayload | undefined> {
      if (!REREAD_MODELS.has(model)) return load();
      const earlier = known(model, by, value);
      if (earlier) return earlier;
      const written = writtenSince(model);
      const payload = await load();
      const rows = written() ? undefined : memo.of();
      // The read itself goes to the provider, which may change it: keep a copy.
      if (payload && rows) rows.set(key(model, by, value), structuredClone(payload));
      return payload;
    },
    /** Drops this request's rows of a model about to be written (a model outside REREAD_MODELS has none). */
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
