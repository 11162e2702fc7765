import type { EntityManager, EntitySchema } from 'typeorm';
import { runSql } from './data-source.js';

/**
 * One row by one column with a single raw statement, for the reads every protocol request
 * makes (its client, its user). TypeORM's `findOneBy` builds its query anew on each call
 * (QueryBuilder, alias and metadata walks), which profiled at about a tenth of a token
 * request's CPU. The statement is built once from the entity's own metadata, each column
 * aliased to its property name, so the row is what `findOneBy` gives: pg already decodes
 * jsonb, boolean and timestamptz as TypeORM hands them back (test/integration/storage/
 * row-by-key.test.ts compares the two).
 */
export function rowByKey<Row>(db: EntityManager, entity: EntitySchema<Row>, property: keyof Row & string): (value: string) => Promise<Row | null> {
  let sql: string | undefined;
  // Built on first use: the metadata exists only once the DataSource is initialized.
  const statement = (): string => {
    if (sql) return sql;
    const metadata = db.connection.getMetadata(entity);
    const key = metadata.columns.find((c) => c.propertyName === property);
    if (!key) throw new Error(`${metadata.tableName} has no column for ${property}`);
    const columns = metadata.columns.map((c) => `"${c.databaseName}" AS "${c.propertyName}"`).join(', ');
    sql = `SELECT ${columns} FROM "${metadata.tableName}" WHERE "${key.databaseName}" = $1 LIMIT 1`;
    return sql;
  };
  return async (value) => (await runSql<Row>(db, statement(), [value])).rows[0] ?? null;
}

/** A table's columns in another statement's select list, and the row taken back out of it. */
export interface JoinedRow<Row> {
  /** The table's quoted name, to join. */
  table(): string;
  /** `alias."column" AS "alias.property", …` for the select list. */
  select(): string;
  /** The joined row as `rowByKey` would give it, or null when the join found none. */
  pick(row: Record<string, unknown>): Row | null;
}

/**
 * The same aliasing as rowByKey for a table joined under `alias`: pg decodes each column by
 * its type as it would alone, so the row picked out equals the one rowByKey reads
 * (test/integration/storage/token-lookup-alongside.test.ts compares them).
 */
export function joinedRow<Row>(db: EntityManager, entity: EntitySchema<Row>, alias: string, key: keyof Row & string): JoinedRow<Row> {
  let columns: Array<{ databaseName: string; propertyName: string }> | undefined;
  const metadataColumns = () => (columns ??= db.connection.getMetadata(entity).columns.map((c) => ({ databaseName: c.databaseName, propertyName: c.propertyName })));
  return {
    table: () => `"${db.connection.getMetadata(entity).tableName}"`,
    select: () => metadataColumns().map((c) => `${alias}."${c.databaseName}" AS "${alias}.${c.propertyName}"`).join(', '),
    pick(row) {
      if (row[`${alias}.${key}`] === null || row[`${alias}.${key}`] === undefined) return null;
      return Object.fromEntries(metadataColumns().map((c) => [c.propertyName, row[`${alias}.${c.propertyName}`]])) as Row;
    },
  };
}
