import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { isTextId, isUuid } from './ids.js';

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

/** The form of a list's ids, so a cursor with another form is refused before it reaches SQL. */
export type IdForm = 'uuid' | 'text';

/** An opaque cursor (base64url JSON) naming the last row of a page, for API and console alike. */
export function encodeKeysetCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

/** The position a cursor names, or undefined when it is not one `encodeKeysetCursor` made. */
export function decodeKeysetCursor(cursor: string, idForm: IdForm): KeysetPosition | undefined {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at !== 'string' || typeof id !== 'string') return undefined;
    const createdAt = new Date(at);
    const idOk = idForm === 'uuid' ? isUuid(id) : isTextId(id);
    return Number.isNaN(createdAt.getTime()) || !idOk ? undefined : { createdAt, id };
  } catch {
    return undefined;
  }
}

/** `alias.createdAt` truncated to what a JS Date holds, for keyset comparisons. */
export const createdAtMillis = (alias: string) => `date_trunc('milliseconds', ${alias}.createdAt)`;

/**
 * Keyset pagination, oldest first: stable while rows are added, with no OFFSET to count past. Reads one row more than asked to know whether another page follows.
 */
export async function keysetPage<Row extends ObjectLiteral & KeysetPosition>(
  qb: SelectQueryBuilder<Row>,
  alias: string,
  after: KeysetPosition | undefined,
  limit: number,
): Promise<Page<Row>> {
  // created_at holds microseconds but a JS Date (and so the cursor) only milliseconds: order and
  // compare on the millisecond, or the last row of a page comes again (or its neighbours are lost).
  const at = createdAtMillis(alias);
  qb.orderBy(at, 'ASC')
    .addOrderBy(`${alias}.id`, 'ASC')
    .take(limit + 1);
  if (after) {
    qb.andWhere(`(${at} > :afterAt OR (${at} = :afterAt AND ${alias}.id > :afterId))`, {
      afterAt: after.createdAt,
      afterId: after.id,
    });
  }
  const rows = await qb.getMany();
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next: rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}
