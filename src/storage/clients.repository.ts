import { In, type EntityManager, type QueryDeepPartialEntity } from 'typeorm';
import { ClientEntity, type ClientRow, type ClientStatus } from './entities/client.entity.js';
import { keysetPage, type KeysetPosition, type Page } from './keyset.js';
import { rowByKey } from './row-by-key.js';
import { writesThrough, type RowCache } from './row-cache.js';

export type NewClient = Pick<ClientRow, 'id' | 'name' | 'secretHash' | 'firstParty' | 'metadata'>;
/** A client written by dynamic registration (RFC 7591): its status and source are explicit. */
export type RegisteredClient = NewClient & Pick<ClientRow, 'status' | 'source'>;

/** `kept`: the rows this process keeps between requests (row-cache.ts); the CLI keeps none. */
export function createClientsRepository(db: EntityManager, kept?: RowCache<ClientRow>) {
  const clients = db.getRepository(ClientEntity);
  const byId = rowByKey(db, ClientEntity, 'id');
  /** Every write of a client goes through here, so that no process keeps the row it replaces. */
  const writing = writesThrough(kept, db);
  return {
    async create(input: NewClient): Promise<ClientRow> {
      return writing(input.id, () => clients.save({ ...input }));
    },
    /**
     * Creates or replaces a client by id: built-in clients at boot, and dynamically registered
     * ones, which name their status and source.
     */
    async upsert(input: NewClient | RegisteredClient): Promise<void> {
      // One INSERT … ON CONFLICT: replicas booting at once on an empty database both register
      // the built-in clients, and save()'s read-then-insert let the slower one fail its boot.
      await writing(input.id, () =>
        clients.upsert({ ...input } as QueryDeepPartialEntity<ClientRow>, { conflictPaths: ['id'] }),
      );
    },
    // An id with U+0000 cannot exist (PostgreSQL text cannot hold it) and would fail the query.
    find: async (id: string) => {
      if (id.includes('\u0000')) return null;
      return kept ? kept.read(id, () => byId(id)) : byId(id);
    },
    list: () => clients.find({ order: { createdAt: 'ASC' } }),
    /** The names of these clients, by id, in one query (the audit page names its clients). */
    async namesOf(ids: string[]): Promise<Map<string, string>> {
      const wanted = [...new Set(ids.filter((id) => !id.includes('\u0000')))];
      if (wanted.length === 0) return new Map();
      const rows = await clients.find({ where: { id: In(wanted) }, select: { id: true, name: true } });
      return new Map(rows.map((row) => [row.id, row.name]));
    },
    /** Clients oldest first, optionally only those with one status (the pending queue). */
    page(options: { status?: ClientStatus; after?: KeysetPosition; limit: number }): Promise<Page<ClientRow>> {
      const qb = clients.createQueryBuilder('c');
      if (options.status) qb.where('c.status = :status', { status: options.status });
      return keysetPage(qb, 'c', options.after, options.limit);
    },
    /** One UPDATE (updated_at set with it); false when no client has that id. */
    async update(
      id: string,
      changes: Partial<Pick<ClientRow, 'name' | 'secretHash' | 'firstParty' | 'metadata' | 'status'>>,
    ): Promise<boolean> {
      // TypeORM's deep-partial type cannot follow a jsonb Record column; the fields are the row's own.
      const result = await writing(id, () => clients.update({ id }, changes as QueryDeepPartialEntity<ClientRow>));
      return (result.affected ?? 0) > 0;
    },
    async delete(id: string): Promise<boolean> {
      const result = await writing(id, () => clients.delete({ id }));
      return (result.affected ?? 0) > 0;
    },
  };
}

export type ClientsRepository = ReturnType<typeof createClientsRepository>;
