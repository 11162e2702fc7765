import type { EntityManager } from 'typeorm';
import { ALL, writesThrough, type RowCache } from './row-cache.js';
import type { UserRow } from './entities/user.entity.js';
import { runSql } from './data-source.js';
import { isUniqueViolation } from './unique-violation.js';
import { ConflictError, NotFoundError } from '../errors/domain-errors.js';
import type { StoredAttributes } from './entities/user.entity.js';

// SQL only: the schema's rules (names, types, scopes) and the values' validation are
// accounts/attribute-schema.ts's. A taken name comes back as the domain's conflict.

export type AttributeType = 'string' | 'number' | 'boolean' | 'date';
export type AttributeEditor = 'admin' | 'user';

/** A custom user attribute an admin defined. */
export interface AttributeDefinitionRow {
  /** Also the claim's name in tokens and userinfo. */
  name: string;
  /** What forms call it. */
  label: string;
  type: AttributeType;
  /** A value cannot be cleared. */
  required: boolean;
  /** Who may change a value: admins only, or also the user on /account. */
  editableBy: AttributeEditor;
  /** The scope whose grant releases the claim. */
  scope: string;
  createdAt: Date;
  updatedAt: Date;
}

interface DefinitionSql {
  name: string;
  label: string;
  type: AttributeType;
  required: boolean;
  editable_by: AttributeEditor;
  scope: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'name, label, type, required, editable_by, scope, created_at, updated_at';

const toDefinition = (r: DefinitionSql): AttributeDefinitionRow => ({
  name: r.name,
  label: r.label,
  type: r.type,
  required: r.required,
  editableBy: r.editable_by,
  scope: r.scope,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

export type NewAttributeDefinition = Pick<
  AttributeDefinitionRow,
  'name' | 'label' | 'type' | 'required' | 'editableBy' | 'scope'
>;
export type AttributeDefinitionChange = Pick<AttributeDefinitionRow, 'label' | 'required' | 'editableBy' | 'scope'>;

/** `keptUsers`: user rows kept in memory (row-cache.ts), which the values written here are part of. */
export function createAttributesRepository(db: EntityManager, keptUsers?: RowCache<UserRow>) {
  const writingUsers = writesThrough(keptUsers, db);
  const rows = async <T>(sql: string, params: unknown[]) => (await runSql<T>(db, sql, params)).rows;

  return {
    async list(): Promise<AttributeDefinitionRow[]> {
      return (await rows<DefinitionSql>(`SELECT ${COLUMNS} FROM attribute_definitions ORDER BY name`, [])).map(
        toDefinition,
      );
    },

    async find(name: string): Promise<AttributeDefinitionRow | undefined> {
      const [row] = await rows<DefinitionSql>(`SELECT ${COLUMNS} FROM attribute_definitions WHERE name = $1`, [name]);
      return row ? toDefinition(row) : undefined;
    },

    async create(input: NewAttributeDefinition): Promise<AttributeDefinitionRow> {
      try {
        const [row] = await rows<DefinitionSql>(
          `INSERT INTO attribute_definitions (name, label, type, required, editable_by, scope)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
          [input.name, input.label, input.type, input.required, input.editableBy, input.scope],
        );
        if (!row) throw new Error('attribute_definitions: INSERT returned no row');
        return toDefinition(row);
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError('name', `an attribute named "${input.name}" exists`);
        throw error;
      }
    },

    async update(name: string, change: AttributeDefinitionChange): Promise<AttributeDefinitionRow> {
      const [row] = await rows<DefinitionSql>(
        `UPDATE attribute_definitions SET label = $2, required = $3, editable_by = $4, scope = $5, updated_at = now()
         WHERE name = $1 RETURNING ${COLUMNS}`,
        [name, change.label, change.required, change.editableBy, change.scope],
      );
      if (!row) throw new NotFoundError('attribute');
      return toDefinition(row);
    },

    /** Deletes the definition and every user's value of it. */
    async delete(name: string): Promise<void> {
      const { affected } = await runSql(db, 'DELETE FROM attribute_definitions WHERE name = $1', [name]);
      if (affected === 0) throw new NotFoundError('attribute');
      await writingUsers(ALL, () =>
        runSql(db, 'UPDATE users SET attributes = attributes - $1::text WHERE attributes ? $1::text', [name]),
      );
    },

    /**
     * What the provider's claims are built from (each attribute's name and scope): another
     * replica compares it on its reload timer and rebuilds its provider when it changed.
     */
    async fingerprint(): Promise<string> {
      const [row] = await rows<{ fingerprint: string | null }>(
        `SELECT string_agg(name || ':' || scope, ',' ORDER BY name) AS fingerprint FROM attribute_definitions`,
        [],
      );
      return row?.fingerprint ?? '';
    },

    /** Replaces a user's values (validated by the accounts domain). */
    async setValues(userId: string, values: StoredAttributes): Promise<void> {
      const { affected } = await writingUsers(userId, () =>
        runSql(db, 'UPDATE users SET attributes = $2::jsonb, updated_at = now() WHERE id = $1', [
          userId,
          JSON.stringify(values),
        ]),
      );
      if (affected === 0) throw new NotFoundError('user');
    },
  };
}
