import type { ClientsRepository } from '../storage/clients.repository.js';
import type { ClientRow, ClientStatus } from '../storage/entities/client.entity.js';
import { memoised, requestMemo } from './request-memo.js';

/**
 * Client rows read at most once per HTTP request, never kept beyond it.
 *
 * A token request used to read its client's row twice (the pending-client check, then
 * oidc-provider's `Client.adapter.find`), an authorization request likewise. Keeping a row
 * only for the request that read it stays correct across replicas by construction: a secret
 * replaced or a client removed on another replica is seen by the next request here, exactly
 * as without the memo (docs/decisions.md, "Client reads").
 */
export interface RequestClientReads {
  /** The client's row; `request` defaults to the provider's current request. */
  find(id: string, request?: object): Promise<ClientRow | null>;
  /** Its status (what the pending-client check needs), from the same read. */
  statusOf(id: string, request?: object): Promise<ClientStatus | undefined>;
  /** Drops what the current request read of this client, after the request itself wrote it. */
  forget(id: string, request?: object): void;
}

export function createRequestClientReads(clients: Pick<ClientsRepository, 'find'>): RequestClientReads {
  const memo = requestMemo<Promise<ClientRow | null>>();
  const find = (id: string, request?: object) => memoised(memo, id, () => clients.find(id), request);
  return {
    find,
    statusOf: async (id, request) => (await find(id, request))?.status,
    forget(id, request) {
      memo.of(request)?.delete(id);
    },
  };
}
