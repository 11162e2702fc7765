import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

/** A position in a list ordered by (created_at, id): the last row of the previous page. */
export interface KeysetPosition {
  createdAt: Date;
  id: string;
}

/** A page of rows and, when more follow, where the next page starts. */
export interface Page<Row> {
  items: Row[];
  next: KeysetPosition | null;
}

/**
 * Keyset pagination, oldest first: stable while rows are added, and an index seek instead of
 * an OFFSET scan. Reads one row more than asked to know whether another page follows.
 */
export async function keysetPage<Row extends ObjectLiteral & KeysetPosition>(
  qb: SelectQueryBuilder<Row>, alias: string, after: KeysetPosition | undefined, limit: number,
): Promise<Page<Row>> {
  qb.orderBy(`${alias}.createdAt`, 'ASC').addOrderBy(`${alias}.id`, 'ASC').take(limit + 1);
  if (after) {
    // created_at holds microseconds, a Date only milliseconds: compared with the Date, the
    // previous page's last row would come again. The boundary is that row's stored time; the
    // Date is the fallback when the row was deleted since.
    const metadata = qb.expressionMap.mainAlias?.metadata;
    const table = metadata?.tablePath ?? '';
    const createdAt = metadata?.findColumnWithPropertyName('createdAt')?.databaseName ?? 'created_at';
    const boundary = `(SELECT COALESCE(MAX(k.${createdAt}), :afterAt) FROM ${table} k WHERE k.id = :afterId)`;
    qb.andWhere(`(${alias}.createdAt > ${boundary} OR (${alias}.createdAt = ${boundary} AND ${alias}.id > :afterId))`, { afterAt: after.createdAt, afterId: after.id });
  }
  const rows = await qb.getMany();
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next: rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}
