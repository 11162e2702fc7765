import type { UserRow } from '../storage/entities/user.entity.js';
import { memoised, requestMemo } from './request-memo.js';

/**
 * The account a provider request serves (findAccount), read at most once per request and
 * never kept beyond it, like client rows (request-client-reads.ts). The row may come along
 * with the token lookup that named it (token-lookup-alongside.ts); a request outside the
 * provider reads as before.
 */
export interface RequestUserReads {
  /** The active user with this id, as `read` answers it, once per request. */
  activeUser(id: string): Promise<UserRow | undefined>;
  /** Keeps a row read along with something else in this request, unless the request has its own. */
  remember(id: string, row: UserRow): void;
}

export function createRequestUserReads(read: (id: string) => Promise<UserRow | undefined>, isActive: (user: UserRow) => boolean): RequestUserReads {
  const memo = requestMemo<Promise<UserRow | undefined>>();
  return {
    activeUser: (id) => memoised(memo, id, () => read(id)),
    remember(id, row) {
      const rows = memo.of();
      if (rows && !rows.has(id)) rows.set(id, Promise.resolve(isActive(row) ? row : undefined));
    },
  };
}
