import type { EntityManager } from 'typeorm';
import { ConflictError } from '../errors/domain-errors.js';
import { isUniqueViolation } from './unique-violation.js';
import { ConnectionEntity, type ConnectionRow } from './entities/connection.entity.js';
import { isTextId } from './ids.js';
import { runSql } from './data-source.js';

/** What the federation domain writes: a row without its timestamps. */
export type ConnectionValues = Omit<ConnectionRow, 'createdAt' | 'updatedAt'>;

const columns = (v: ConnectionValues) => [
  v.id,
  v.displayName,
  v.kind,
  v.preset,
  v.enabled,
  v.position,
  JSON.stringify(v.settings),
  v.secretSealed,
];

/** Upstream identity providers (issue 17), as rows: the domain validates and seals before writing. */
export function createConnectionsRepository(db: EntityManager) {
  const connections = db.getRepository(ConnectionEntity);
  return {
    /** Every connection in sign-in page order (position, then id). */
    list: () => connections.find({ order: { position: 'ASC', id: 'ASC' } }),

    findById: async (id: string): Promise<ConnectionRow | null> =>
      isTextId(id) ? connections.findOneBy({ id }) : null,

    async create(values: ConnectionValues): Promise<ConnectionRow> {
      try {
        await runSql(
          db,
          `INSERT INTO connections (id, display_name, kind, preset, enabled, position, settings, secret_sealed)
          VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)`,
          [...columns(values)],
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError('id', 'a connection with this id exists');
        throw error;
      }
      return connections.findOneByOrFail({ id: values.id });
    },

    /** Replaces every column but the id; false when there is no such connection. */
    async update(values: ConnectionValues): Promise<boolean> {
      const { affected } = await runSql(
        db,
        `UPDATE connections SET display_name = $2, kind = $3, preset = $4, enabled = $5,
          position = $6, settings = $7::jsonb, secret_sealed = $8, updated_at = now() WHERE id = $1`,
        [...columns(values)],
      );
      return affected > 0;
    },

    /** Deletes the connection and, by the foreign key, every identity linked through it. */
    async delete(id: string): Promise<boolean> {
      if (!isTextId(id)) return false;
      return ((await connections.delete({ id })).affected ?? 0) > 0;
    },
  };
}
