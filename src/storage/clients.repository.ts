import type { EntityManager } from 'typeorm';
import { ClientEntity, type ClientRow } from './entities/client.entity.js';

export type NewClient = Pick<ClientRow, 'id' | 'name' | 'secretHash' | 'firstParty' | 'metadata'>;

export function createClientsRepository(db: EntityManager) {
  const clients = db.getRepository(ClientEntity);
  return {
    async create(input: NewClient): Promise<ClientRow> {
      return clients.save({ ...input });
    },
    // An id with U+0000 cannot exist (PostgreSQL text cannot hold it) and would fail the query.
    /** Creates or replaces a client by id (built-in clients at boot). */
    async upsert(input: NewClient): Promise<void> {
      await clients.save({ ...input });
    },
    find: async (id: string) => (id.includes('\u0000') ? null : clients.findOneBy({ id })),
    list: () => clients.find({ order: { createdAt: 'ASC' } }),
    async delete(id: string): Promise<boolean> {
      const result = await clients.delete({ id });
      return (result.affected ?? 0) > 0;
    },
  };
}

export type ClientsRepository = ReturnType<typeof createClientsRepository>;
