import Provider from 'oidc-provider';
import type { ClientsRepository } from '../storage/clients.repository.js';
import type { ClientRow, ClientStatus } from '../storage/entities/client.entity.js';

/**
 * Client rows read at most once per HTTP request, never kept beyond it.
 *
 * A token request used to read its client's row twice (the pending-client check, then
 * oidc-provider's `Client.adapter.find`), an authorization request likewise. Keeping a row
 * only for the request that read it stays correct across replicas by construction: a secret
 * replaced or a client removed on another replica is seen by the next request here, exactly
 * as without the memo (docs/decisions.md, "Client reads"). The key is the Koa context, which
 * oidc-provider also exposes as `Provider.ctx` (its AsyncLocalStorage, set per request in
 * lib/helpers/initialize_app.js on the context koa-mount hands it), so our middleware in
 * front of the provider and the provider's adapter share one read. Outside a request (CLI,
 * background jobs) every call reads the table.
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
  // Weak: a request's reads go with its context.
  const byRequest = new WeakMap<object, Map<string, Promise<ClientRow | null>>>();
  const current = (request: object | undefined): object | undefined => request ?? Provider.ctx;

  const find = (id: string, request?: object): Promise<ClientRow | null> => {
    const key = current(request);
    if (!key) return clients.find(id);
    let reads = byRequest.get(key);
    if (!reads) {
      reads = new Map();
      byRequest.set(key, reads);
    }
    const known = reads.get(id);
    if (known) return known;
    const read = clients.find(id);
    reads.set(id, read);
    // A failed read is not remembered: the request fails with it, and nothing else may reuse it.
    read.catch(() => reads.delete(id));
    return read;
  };

  return {
    find,
    statusOf: async (id, request) => (await find(id, request))?.status,
    forget(id, request) {
      const key = current(request);
      if (key) byRequest.get(key)?.delete(id);
    },
  };
}
