import type { EntityManager } from 'typeorm';
import { ConflictError } from '../errors/domain-errors.js';
import { isUniqueViolation } from './unique-violation.js';
import { ConnectionEntity, type ConnectionRow } from './entities/connection.entity.js';
import { isTextId } from './ids.js';
import { runSql } from './data-source.js';
import { ALL, writesThrough, type RowCache } from './row-cache.js';

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

/**
 * Upstream identity providers (issue 17), as rows: the domain validates and seals before writing.
 * `kept`: the whole list, kept by this process between requests (row-cache.ts) because every
 * sign-in page and password sign-in reads it; the CLI keeps none.
 */
export function createConnectionsRepository(db: EntityManager, kept?: RowCache<readonly ConnectionRow[]>) {
  const connections = db.getRepository(ConnectionEntity);
  /** Every write of a connection goes through here: it changes the list, whichever row it names. */
  const writing = writesThrough(kept, db);
  const load = () => connections.find({ order: { position: 'ASC', id: 'ASC' } });
  return {
    /** Every connection in sign-in page order (position, then id); frozen when it was kept. */
    list: async (): Promise<readonly ConnectionRow[]> => (kept ? ((await kept.read(ALL, load)) ?? []) : load()),

    findById: async (id: string): Promise<ConnectionRow | null> =>
      isTextId(id) ? connections.findOneBy({ id }) : null,

    async create(values: ConnectionValues): Promise<ConnectionRow> {
      try {
        await writing(values.id, () =>
          runSql(
            db,
            `INSERT INTO connections (id, display_name, kind, preset, enabled, position, settings, secret_sealed)
            VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)`,
            [...columns(values)],
          ),
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError('id', 'a connection with this id exists');
        throw error;
      }
      return connections.findOneByOrFail({ id: values.id });
    },

    /** Replaces every column but the id; false when there is no such connection. */
    async update(values: ConnectionValues): Promise<boolean> {
      const { affected } = await writing(values.id, () =>
        runSql(
          db,
          `UPDATE connections SET display_name = $2, kind = $3, preset = $4, enabled = $5,
            position = $6, settings = $7::jsonb, secret_sealed = $8, updated_at = now() WHERE id = $1`,
          [...columns(values)],
        ),
      );
      return affected > 0;
    },

    /** Deletes the connection and, by the foreign key, every identity linked through it. */
    async delete(id: string): Promise<boolean> {
      if (!isTextId(id)) return false;
      return ((await writing(id, () => connections.delete({ id }))).affected ?? 0) > 0;
    },
  };
}
