import type { EntityManager, EntitySchema } from 'typeorm';
import { runSql } from './data-source.js';

/**
 * The entity's columns, each aliased to its property name (`alias."column" AS "property"`), so a
 * raw statement's rows are what TypeORM's find gives. Needs an initialized DataSource.
 */
export function entityColumns<Row>(db: EntityManager, entity: EntitySchema<Row>, alias?: string): string {
  const prefix = alias ? `${alias}.` : '';
  return db.connection
    .getMetadata(entity)
    .columns.map((c) => `${prefix}"${c.databaseName}" AS "${c.propertyName}"`)
    .join(', ');
}

/**
 * One row by one column with a single raw statement, for the reads every protocol request
 * makes (its client, its user). TypeORM's `findOneBy` builds its query anew on each call
 * (QueryBuilder, alias and metadata walks), which profiled at about a tenth of a token
 * request's CPU. The statement is built once from the entity's own metadata, each column
 * aliased to its property name, so the row is what `findOneBy` gives: pg already decodes
 * jsonb, boolean and timestamptz as TypeORM hands them back (test/integration/storage/
 * row-by-key.test.ts compares the two).
 */
export function rowByKey<Row>(
  db: EntityManager,
  entity: EntitySchema<Row>,
  property: keyof Row & string,
): (value: string) => Promise<Row | null> {
  let sql: string | undefined;
  // Built on first use: the metadata exists only once the DataSource is initialized.
  const statement = (): string => {
    if (sql) return sql;
    const metadata = db.connection.getMetadata(entity);
    const key = metadata.columns.find((c) => c.propertyName === property);
    if (!key) throw new Error(`${metadata.tableName} has no column for ${property}`);
    sql = `SELECT ${entityColumns(db, entity)} FROM "${metadata.tableName}" WHERE "${key.databaseName}" = $1 LIMIT 1`;
    return sql;
  };
  return async (value) => (await runSql<Row>(db, statement(), [value])).rows[0] ?? null;
}
